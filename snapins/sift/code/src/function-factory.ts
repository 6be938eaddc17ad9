import other_features from './functions/other_features';
import ticket_creator from './functions/ticket_creator';

export const functionFactory = {
  ticket_creator,
  other_features,
} as const;

export type FunctionFactoryType = keyof typeof functionFactory;
