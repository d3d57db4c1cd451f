import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { Permission } from '@purser/core';
import { Public, Requires } from './auth';
import { ApiErrors } from './openapi';
import { ReadsProjections } from './reads';

export interface EndpointResponse {
  description: string;
  /** A JSON schema (or a $ref) from the context's api.schemas.ts. */
  schema?: object;
  /** Instead of a JSON schema: the media types answered (e.g. text/csv). */
  content?: Record<string, { schema: object }>;
}

/** Everything the edge needs to know about a route, declared once above it. */
export interface EndpointSpec {
  summary: string;
  description?: string;
  /** The permission the route needs, or 'public' (no credential: health, sign-in, docs). */
  requires: Permission | 'public';
  /** The 200 answer. */
  ok?: EndpointResponse;
  /** The 201 answer (a command that created something). */
  created?: EndpointResponse;
  /** Any other success answers (e.g. 200 and 201 on the same route). */
  responses?: Array<EndpointResponse & { status: number }>;
  /** Error statuses beyond the shared ones (400, 401, 403, 500; 503 with minPosition; 413 and 415 with a body). */
  errors?: number[];
  /** The projections a query reads: `?minPosition=` waits for them (read your own writes). */
  reads?: string[];
  /** The route takes `If-Match` (the revision read; a stale one answers 409). */
  ifMatch?: boolean;
}

const IF_MATCH = {
  name: 'If-Match',
  required: false,
  description: 'The revision you read; a stale one is refused with 409',
};

/**
 * The declarative edge: one decorator gives a route its permission, its OpenAPI operation and answers, the
 * projections it reads and its If-Match header, so controllers hold no per-route plumbing.
 */
export function Endpoint(spec: EndpointSpec): MethodDecorator {
  const decorators: Array<MethodDecorator | ClassDecorator> = [
    spec.requires === 'public' ? Public() : Requires(spec.requires),
    ApiOperation({ summary: spec.summary, ...(spec.description ? { description: spec.description } : {}) }),
  ];
  if (spec.ok) decorators.push(ApiResponse({ status: 200, ...spec.ok }));
  if (spec.created) decorators.push(ApiResponse({ status: 201, ...spec.created }));
  for (const r of spec.responses ?? []) decorators.push(ApiResponse(r));
  if (spec.errors?.length) decorators.push(ApiErrors(...spec.errors));
  if (spec.reads?.length) decorators.push(ReadsProjections(...spec.reads));
  if (spec.ifMatch) decorators.push(ApiHeader(IF_MATCH));
  return applyDecorators(...decorators);
}
