/**
 * The access context's public face: its modules, its events and the ports others may use. Its deciders, states,
 * streams and key material are its own.
 */
export { AccessModule, AccessProjectionsModule } from './access.module';
export * from './events';
export { ApiKeyVerifier } from './authenticator';
export { KeyMaterial } from './key-material';
export { SETUP_TOKEN_FILE } from './setup/setup';
export { ARGON2_PARAMS } from './credentials/passwords';
