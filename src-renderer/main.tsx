// Imported first: it must configure zod before any module parses with it.
import './zod-config';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { useAppStore } from './store';
import { startBridge } from './store/bridge';
import { pageFromHash } from './store/ui-slice';
import './styles.css';

useAppStore.getState().setPage(pageFromHash(window.location.hash) ?? 'dashboard');
startBridge();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
