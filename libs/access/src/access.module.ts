import { Inject, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { Clock, CommandExecutor, EventRegistry, PositionWaiter } from '@purser/core';
import { DirectoryLookupModule } from '@purser/directory';
import {
  CLOCK,
  CONFIG,
  Gatekeeper,
  LOGGER,
  ProjectionRegistry,
  PurserConfig,
  PurserLogger,
} from '@purser/platform';
import { ACCESS_EVENT_TYPES } from './events';
import { AccessSessionsProjection } from './sessions/projection';
import { AccessApiKeysProjection } from './api-keys/api-keys.projection';
import { AccessReaper } from './reaper';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { KeyMaterial } from './key-material';
import { AccessTokens } from './tokens';
import { Passwords } from './credentials/passwords';
import { SessionIssuer } from './sessions/sessions';
import { SignInThrottle } from './credentials/throttle';
import { SignInFailures } from './credentials/failures';
import { Instance } from './setup/instance';
import { MfaChallenges } from './mfa/mfa-challenge';
import { OpenSessions } from './sessions/open-sessions';
import { SetUpHandler, SetupToken } from './setup/setup';
import {
  ChangePasswordHandler,
  EndSessionHandler,
  RefreshSessionHandler,
  SetUserPasswordHandler,
  SignInHandler,
  UnlockAccountHandler,
} from './sign-in/sign-in.handlers';
import { AccessAuthenticator, ApiKeyVerifier } from './authenticator';
import { ApiKeys } from './api-keys/api-keys';
import { AuthController } from './sign-in/auth.controller';
import { MeController, UserAccessController } from './sign-in/me.controller';
import {
  CompletePasswordResetHandler,
  PasswordResetMailer,
  RequestPasswordResetHandler,
} from './reset/reset';
import { ResetController } from './reset/reset.controller';
import { MeMfaController, MfaSignInController, OrgMfaController } from './mfa/mfa.controller';
import {
  ConfirmTotpHandler,
  EnrolTotpHandler,
  MfaCredentials,
  RenewRecoveryCodesHandler,
  ResetUserMfaHandler,
  TurnOffMfaHandler,
} from './mfa/mfa';
import {
  CompleteMfaSignInHandler,
  ConfirmTotpAtSignInHandler,
  EnrolTotpAtSignInHandler,
  SecondStep,
} from './mfa/mfa-sign-in';
import { MfaPolicies, SetOrgMfaPolicyHandler } from './mfa/mfa-policy';
import { ROLES_EVENT_TYPES } from './permissions/roles.decider';
import { Rbac, RbacAuthorizer } from './permissions/rbac';
import { ChangeRolesHandler, Roles } from './permissions/roles';
import { RefusalRecordingAuthorizer } from './permissions/refusals';
import { PermissionsController, RolesController } from './permissions/permissions.controller';

/**
 * Registers the access context's event names, its projections and its reaper (the reactor that ends a deactivated
 * or deleted owner's sessions and keys); used alone by the worker.
 */
@Module({})
export class AccessProjectionsModule {
  constructor(
    events: EventRegistry,
    projections: ProjectionRegistry,
    executor: CommandExecutor,
    waiter: PositionWaiter,
  ) {
    events.registerAll(ACCESS_EVENT_TYPES);
    events.registerAll(ROLES_EVENT_TYPES);
    projections.register(
      new AccessSessionsProjection(),
      new AccessApiKeysProjection(),
      new AccessReaper(executor, waiter),
    );
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
  controllers: [
    AuthController,
    MeController,
    UserAccessController,
    ResetController,
    ApiKeysController,
    MeMfaController,
    MfaSignInController,
    OrgMfaController,
    PermissionsController,
    RolesController,
  ],
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
    SignInFailures,
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
    MfaCredentials,
    SecondStep,
    MfaPolicies,
    EnrolTotpHandler,
    ConfirmTotpHandler,
    RenewRecoveryCodesHandler,
    TurnOffMfaHandler,
    ResetUserMfaHandler,
    CompleteMfaSignInHandler,
    EnrolTotpAtSignInHandler,
    ConfirmTotpAtSignInHandler,
    SetOrgMfaPolicyHandler,
    Rbac,
    RbacAuthorizer,
    Roles,
    ChangeRolesHandler,
  ],
})
export class AccessModule {
  constructor(
    gatekeeper: Gatekeeper,
    authenticator: AccessAuthenticator,
    authorizer: RbacAuthorizer,
    executor: CommandExecutor,
    @Inject(CLOCK) clock: Clock,
    @Inject(LOGGER) logger: PurserLogger,
  ) {
    gatekeeper.install({
      authenticator,
      // Every 403 and 404 of the authorizer is recorded (AccessRefused) in the caller's org.
      authorizer: new RefusalRecordingAuthorizer(authorizer, executor, clock, logger),
    });
  }
}
