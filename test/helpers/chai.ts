// chai 6 is ESM-only; Node 20.19+ loads it with require(), which `"module": "node20"` allows.
export { expect } from 'chai';
