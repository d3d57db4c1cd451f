/**
 * The directory's public face: its modules, its events, its HTTP DTO and response types, and DirectoryLookup (what
 * other contexts may ask of it). Its deciders, states, streams, projection and queries are its own.
 */
export { DirectoryModule, DirectoryProjectionsModule, DirectoryLookupModule } from './directory.module';
export * from './events';
export * from './lookup';
export { orgNotFound } from './org.decider';
/** Other contexts create orgs and users through the same commands and validate them with the same DTOs (setup). */
export { CreateOrgDto, CreateUserDto } from './dto';
export { CreateOrg, CreateUser, DeleteOrg, UpdateUser } from './commands';
export type {
  ContactInfoDto,
  UpdateOrgDto,
  CreateTeamDto,
  RenameTeamDto,
  MoveTeamDto,
  UpdateUserDto,
  DeactivateUserDto,
} from './dto';
export type { OrgView, TeamView, TeamTreeNode, UserView } from './queries';
export type { DirectoryCommandResult } from './commands';
