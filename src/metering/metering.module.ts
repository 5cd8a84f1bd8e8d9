import { Module } from '@nestjs/common';

/**
 * TEMPORARY (while identity and subscriptions are being written): an empty module so the app still starts.
 * The full wiring lands as soon as their facades exist.
 */
@Module({})
export class MeteringModule {}
