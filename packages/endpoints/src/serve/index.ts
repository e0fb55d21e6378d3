export {
  createEndpointHandler,
  type EndpointHandlerOptions,
  kwargsFromBody,
  queryKwargs,
} from './http-handler.ts';
