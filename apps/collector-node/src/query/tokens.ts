export const NODE_ID = Symbol('NODE_ID');
