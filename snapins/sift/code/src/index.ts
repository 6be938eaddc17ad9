export * from './function-factory';
