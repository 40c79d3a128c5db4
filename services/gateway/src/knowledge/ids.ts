/** The gateway's one id generator (injected, so handlers stay deterministic under test). */
export { ID_GENERATOR, type IdGenerator } from '../conversations';
