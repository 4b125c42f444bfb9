/**
 * Typed domain errors. Transports never build error responses themselves: they map these
 * kinds in one place (src/transport/errors.ts) to Connect codes and legacy REST bodies.
 */
export type ErrorKind =
  | "invalid_argument"
  | "unauthenticated"
  | "permission_denied"
  | "not_found"
  | "already_exists"
  | "failed_precondition"
  | "unavailable"
  | "unimplemented"
  | "payload_too_large"
  | "unsupported_media_type"
  | "deadline_exceeded"
  | "internal";

export abstract class DomainError extends Error {
  abstract readonly kind: ErrorKind;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bad input. `field` names the offending request field in the caller's spelling. */
export class InvalidArgumentError extends DomainError {
  readonly kind = "invalid_argument";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export class UnauthenticatedError extends DomainError {
  readonly kind = "unauthenticated";
}

export class PermissionDeniedError extends DomainError {
  readonly kind = "permission_denied";
}

/** Missing, or not visible to the calling organisation: the two must look the same. */
export class NotFoundError extends DomainError {
  readonly kind = "not_found";
}

export class AlreadyExistsError extends DomainError {
  readonly kind = "already_exists";
}

/** A business rule forbids the action in the current state. */
export class FailedPreconditionError extends DomainError {
  readonly kind = "failed_precondition";
}

/**
 * A WatchEvents stream asked to resume after a sequence whose following events retention has
 * removed: resuming would silently miss them.
 */
export class EventsPrunedError extends FailedPreconditionError {
  constructor(
    readonly afterSequence: number,
    /** Resuming after this sequence (or later) misses nothing. */
    readonly prunedThrough: number,
    /** The oldest event kept after the pruned ones; undefined when there is none yet. */
    readonly oldestSequence: number | undefined,
  ) {
    super(
      `events after sequence ${afterSequence} were removed by retention (subscriptions.retention.days)` +
        (oldestSequence !== undefined ? `; the oldest event kept after them is sequence ${oldestSequence}` : "") +
        `: resume with after_sequence ${prunedThrough} or later, or 0 to follow from now`,
    );
  }
}

/** The chain node or another dependency cannot be reached; retrying later may work. */
export class UnavailableError extends DomainError {
  readonly kind = "unavailable";
}

export class UnimplementedError extends DomainError {
  readonly kind = "unimplemented";
}

export class PayloadTooLargeError extends DomainError {
  readonly kind = "payload_too_large";
}

export class UnsupportedMediaTypeError extends DomainError {
  readonly kind = "unsupported_media_type";
}

export class DeadlineExceededError extends DomainError {
  readonly kind = "deadline_exceeded";
}
