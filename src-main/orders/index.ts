export { OrderDesk, type OrderDeskDeps } from './order-desk';
export { OrderSource, type OrderSourceDeps } from './order-source';
export { instrumentCodesFor, lisCodeFor } from './test-codes';
