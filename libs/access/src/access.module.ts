import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { EventRegistry } from '@purser/core';
import { DirectoryLookupModule } from '@purser/directory';
import { CONFIG, Gatekeeper, ProjectionRegistry, PurserConfig } from '@purser/platform';
import { ACCESS_EVENT_TYPES } from './events';
import { AccessSessionsProjection } from './projection';
import { KeyMaterial } from './key-material';
import { AccessTokens } from './tokens';
import { Passwords } from './passwords';
import { SessionIssuer } from './sessions';
import { SignInThrottle } from './throttle';
import { Instance } from './instance';
import { MfaChallenges } from './mfa-challenge';
import { OpenSessions } from './open-sessions';
import { SetUpHandler, SetupToken } from './setup';
import {
  ChangePasswordHandler,
  EndSessionHandler,
  RefreshSessionHandler,
  SetUserPasswordHandler,
  SignInHandler,
  UnlockAccountHandler,
} from './sign-in.handlers';
import { AccessAuthenticator, ApiKeyVerifier } from './authenticator';
import { ApiKeys } from './api-keys';
import { AuthController } from './auth.controller';
import { MeController, UserAccessController } from './me.controller';
import { CompletePasswordResetHandler, PasswordResetMailer, RequestPasswordResetHandler } from './reset';
import { ResetController } from './reset.controller';

/** Registers the access context's event names and its projection (used alone by the worker). */
@Module({})
export class AccessProjectionsModule {
  constructor(events: EventRegistry, projections: ProjectionRegistry) {
    events.registerAll(ACCESS_EVENT_TYPES);
    projections.register(new AccessSessionsProjection());
  }
}

/**
 * Sign-in: setup, passwords, sessions and their tokens, MFA, resets, API keys. Installs its authenticator in the
 * platform's gatekeeper, so every guarded route knows who calls.
 */
@Module({
  imports: [
    AccessProjectionsModule,
    DirectoryLookupModule,
    ThrottlerModule.forRootAsync({
      inject: [CONFIG],
      useFactory: (config: PurserConfig) => [{ ttl: 60_000, limit: config.access.authRateLimitPerMinute }],
    }),
  ],
  controllers: [AuthController, MeController, UserAccessController, ResetController],
  providers: [
    {
      provide: KeyMaterial,
      inject: [CONFIG],
      useFactory: (config: PurserConfig) => KeyMaterial.open(config.access.keysDir),
    },
    {
      provide: AccessTokens,
      inject: [KeyMaterial],
      useFactory: (keys: KeyMaterial) => new AccessTokens(keys),
    },
    Passwords,
    SessionIssuer,
    SignInThrottle,
    Instance,
    MfaChallenges,
    OpenSessions,
    SetupToken,
    SetUpHandler,
    SignInHandler,
    RefreshSessionHandler,
    EndSessionHandler,
    ChangePasswordHandler,
    UnlockAccountHandler,
    SetUserPasswordHandler,
    PasswordResetMailer,
    RequestPasswordResetHandler,
    CompletePasswordResetHandler,
    ApiKeys,
    { provide: ApiKeyVerifier, useExisting: ApiKeys },
    AccessAuthenticator,
  ],
})
export class AccessModule {
  constructor(gatekeeper: Gatekeeper, authenticator: AccessAuthenticator) {
    gatekeeper.install({ authenticator });
  }
}
