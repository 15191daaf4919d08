import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { configFromEnv } from '../composition/config';
import { buildContainer, type Container } from '../composition/container';
import type { Observability } from '../http/make-api-handler';

let container: Promise<Container> | undefined;

/** The container of this Lambda instance, built on first use from the environment CDK set. */
export function lambdaContainer(): Promise<Container> {
  container ??= Promise.resolve().then(() => buildContainer(configFromEnv(process.env)));
  return container;
}

/** Powertools logger (structured, PHI-free fields only), tracer and metrics for one function. */
export function lambdaObservability(serviceName: string): Observability {
  return {
    logger: new Logger({ serviceName }),
    tracer: new Tracer({ serviceName }),
    metrics: new Metrics({ namespace: 'MDRP', serviceName }),
  };
}
