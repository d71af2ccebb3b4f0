import { act, cleanup } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';
import { setApi } from '../../src-renderer/api';
import { resetAppStore } from '../../src-renderer/store';
import { startBridge } from '../../src-renderer/store/bridge';
import { createFakeApi, type FakeApi } from './fake-api';

/**
 * Every case gets a fresh store and a fresh fake gateway; the bridge, timers and rendered trees
 * of one case never leak into the next.
 */
export function withTestGateway(): { readonly fake: FakeApi; startBridge(): Promise<void> } {
  let fake: FakeApi | null = null;
  let stopBridge: (() => void) | null = null;

  beforeEach(() => {
    fake = createFakeApi();
    setApi(fake.api);
    resetAppStore();
  });

  afterEach(() => {
    cleanup();
    stopBridge?.();
    stopBridge = null;
    setApi(null);
    vi.useRealTimers();
  });

  return {
    get fake() {
      if (!fake) throw new Error('the fake gateway exists only inside a test');
      return fake;
    },
    async startBridge() {
      await act(async () => {
        stopBridge = startBridge();
      });
    },
  };
}

/** Lets pending promise callbacks (command answers) run, inside act so React applies them. */
export async function settle(): Promise<void> {
  await act(async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  });
}

/** The texts an element points to with aria-describedby: its hint and its problem. */
export function descriptionOf(element: HTMLElement): string {
  return (element.getAttribute('aria-describedby') ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((id) => document.getElementById(id)?.textContent ?? '')
    .join(' ');
}
