/**
 * The request path of `@event-driven-io/emmett-expressjs` 0.42.0 (MIT, Oskar Dudycz), copied
 * from its sources at the 0.42.0 release (`src/packages/emmett-expressjs/src/`: application.ts,
 * handler.ts, responses.ts, middlewares/problemDetailsMiddleware.ts), for the HTTP peer of
 * test/bench/http-peer.ts.
 *
 * Why a copy: the npm registry this project installs from holds only 0.20.0 and 0.35.0-alpha.2
 * of the package, and each pins `@event-driven-io/emmett` to its own version as a peer, which
 * conflicts with the 0.42.0 the bench compares against (npm refuses the install). 0.42.0 itself
 * declares express ^4.22.1, express-async-errors ^3.1.1 and http-problem-details ^0.1.7 as
 * peers: those are installed as devDependencies at exactly those majors, so the code below runs
 * on the same stack the published package would. Left out: ETag helpers (unused by a create),
 * `startAPI` (it logs and listens on a fixed port), the test helpers (supertest).
 */
import { isNumber } from '@event-driven-io/emmett';
import express, { Router, type Application, type NextFunction, type Request, type Response } from 'express';
import 'express-async-errors';
import { ProblemDocument } from 'http-problem-details';

export type WebApiSetup = (router: Router) => void;
export type ErrorToProblemDetailsMapping = (error: Error, request: Request) => ProblemDocument | undefined;

export type ApplicationOptions = {
  apis: WebApiSetup[];
  mapError?: ErrorToProblemDetailsMapping;
  enableDefaultExpressEtag?: boolean;
  disableJsonMiddleware?: boolean;
  disableUrlEncodingMiddleware?: boolean;
  disableProblemDetailsMiddleware?: boolean;
};

export const getApplication = (options: ApplicationOptions): Application => {
  const app: Application = express();
  const { apis, mapError, enableDefaultExpressEtag, disableJsonMiddleware, disableUrlEncodingMiddleware, disableProblemDetailsMiddleware } =
    options;
  const router = Router();
  // disabling default etag behaviour to use etags in if-match and if-not-match headers
  app.set('etag', enableDefaultExpressEtag ?? false);
  if (!disableJsonMiddleware) app.use(express.json());
  if (!disableUrlEncodingMiddleware) app.use(express.urlencoded({ extended: true }));
  for (const api of apis) api(router);
  app.use(router);
  if (!disableProblemDetailsMiddleware) app.use(problemDetailsMiddleware(mapError));
  return app;
};

export type HttpResponse = (response: Response) => void;
export type HttpHandler<RequestType extends Request> = (request: RequestType) => Promise<HttpResponse> | HttpResponse;

export const on =
  <RequestType extends Request>(handle: HttpHandler<RequestType>) =>
  async (request: RequestType, response: Response, _next: NextFunction): Promise<void> => {
    const setResponse = await Promise.resolve(handle(request));
    return setResponse(response);
  };

export type HttpResponseOptions = { body?: unknown; location?: string; eTag?: string };
export type CreatedHttpResponseOptions = ({ createdId: string } | { createdId?: string; url: string }) & HttpResponseOptions;

export const Created =
  (options: CreatedHttpResponseOptions): HttpResponse =>
  (response: Response) => {
    sendCreated(response, options);
  };

export const sendCreated = (response: Response, { eTag, ...options }: CreatedHttpResponseOptions): void =>
  send(response, 201, {
    location: 'url' in options ? options.url : `${response.req.url}/${options.createdId}`,
    body: 'createdId' in options ? { id: options.createdId } : undefined,
    ...(eTag !== undefined && { eTag }),
  });

export const send = (response: Response, statusCode: number, options?: HttpResponseOptions): void => {
  const { location, body, eTag } = options ?? {};
  if (eTag) response.setHeader('etag', eTag);
  if (location) response.setHeader('Location', location);
  if (body) {
    response.statusCode = statusCode;
    response.send(body);
  } else {
    response.sendStatus(statusCode);
  }
};

export const sendProblem = (response: Response, statusCode: number, problem: ProblemDocument): void => {
  response.setHeader('Content-Type', 'application/problem+json');
  response.statusCode = statusCode;
  response.json(problem);
};

export const problemDetailsMiddleware =
  (mapError?: ErrorToProblemDetailsMapping) =>
  (error: Error, request: Request, response: Response, _next: NextFunction): void => {
    let problemDetails: ProblemDocument | undefined;
    if (mapError) problemDetails = mapError(error, request);
    problemDetails = problemDetails ?? defaultErrorToProblemDetailsMapping(error);
    sendProblem(response, problemDetails.status, problemDetails);
  };

export const defaultErrorToProblemDetailsMapping = (error: Error): ProblemDocument => {
  let statusCode = 500;
  if ('errorCode' in error && isNumber(error.errorCode) && error.errorCode >= 100 && error.errorCode < 600) {
    statusCode = error.errorCode;
  }
  return new ProblemDocument({ detail: error.message, status: statusCode });
};
