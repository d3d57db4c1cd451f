import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { ValidationError } from '@purser/core';

/** Ids in paths: letters, digits, '-' and '_', 1-64 characters. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function parseId(value: string, field: string): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new ValidationError(`${field} is not a valid id`, [
      { field, problem: 'must be 1-64 characters of [A-Za-z0-9_-]' },
    ]);
  }
  return value;
}

/** Validates an id path parameter, named after the parameter: `@Param('orgId', IdPipe) orgId: string`. */
@Injectable()
export class IdPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    return parseId(value, metadata.data ?? 'id');
  }
}
