import { ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';
import { flattenValidationErrors } from '@flowmesh/common';

/** Refuses a body that is not a JSON object before the DTO rules see it (an array would otherwise fail every field). */
class ObjectBodyValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new BadRequestException(['body: must be a JSON object']);
    }
    return super.transform(value, metadata);
  }
}

/**
 * The global pipe: unknown fields are refused, bodies become DTO instances (with their defaults),
 * and a 400 lists one message per problem, each starting with the field's path.
 */
export function createValidationPipe(): ValidationPipe {
  return new ObjectBodyValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => new BadRequestException(flattenValidationErrors(errors)),
  });
}
