export { ID_GENERATOR, type IdGenerator } from '../conversations/ids';
