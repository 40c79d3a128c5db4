/**
 * The intent fast path: a customer's text against the centroids of each intent's labelled examples.
 * Sessions decides with it before asking inference; inference decides with it when sessions could not;
 * the evaluation (bench/intents) measures it.
 */
export * from './intent-index';
export * from './intent-fast-path';
