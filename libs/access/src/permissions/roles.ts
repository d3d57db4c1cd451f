import { Injectable } from '@nestjs/common';
import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import {
  CommandContext,
  CommandExecutor,
  NotFoundError,
  Principal,
  ValidationError,
  orgNotFound,
} from '@purser/core';
import { DirectoryLookup } from '@purser/directory';
import { ApiKeys } from '../api-keys/api-keys';
import { AccessStreams } from '../streams';
import { BUILT_IN_ROLES, PERMISSION_CATALOGUE } from './catalogue';
import { Rbac } from './rbac';
import {
  AclEntry,
  Assignment,
  RolePrincipal,
  RoleScope,
  RolesCommand,
  RolesState,
  roleGrants,
  roleNotFound,
  rolesDecider,
} from './roles.decider';

export interface RoleView {
  roleId: string;
  name: string;
  description: string;
  permissions: string[];
  builtIn: boolean;
}

export function rolesOf(s: RolesState): RoleView[] {
  return [
    ...BUILT_IN_ROLES.map((r) => ({ ...r, permissions: [...r.grants], builtIn: true })).map(
      ({ grants: _g, ...r }) => r,
    ),
    ...[...s.roles.values()].map((r) => ({ ...r, permissions: [...r.permissions], builtIn: false })),
  ];
}

export function permissionsOf(s: RolesState) {
  return [
    ...PERMISSION_CATALOGUE.map((p) => ({ ...p, custom: false })),
    ...[...s.permissions].map(([name, description]) => ({ name, description, custom: true })),
  ];
}

/** The roles stream of an org, run for the HTTP edge: the org must exist; granters are judged by their roles. */
@Injectable()
export class Roles {
  constructor(
    private readonly commands: CommandBus,
    private readonly directory: DirectoryLookup,
    private readonly apiKeys: ApiKeys,
    private readonly rbac: Rbac,
  ) {}

  /** The org's roles now, or as they were at `asOf`. */
  async state(orgId: string, asOf?: string): Promise<RolesState> {
    if (!(await this.directory.org(orgId))) throw orgNotFound(orgId);
    return this.rbac.roles(orgId, asOf);
  }

  /**
   * An ACL entry naming a live resource of the org (a quota is taken at its id: its context is not asked) and a
   * live principal or a role of the org (404 otherwise).
   */
  async aclEntry(orgId: string, body: AclEntry): Promise<AclEntry> {
    const { resource, principal } = body;
    const unknown = (field: string, what: string) =>
      new NotFoundError(`${what} not found`, [{ field, problem: 'unknown' }]);
    const live =
      resource.type === 'org'
        ? resource.id === orgId
        : resource.type === 'quota'
          ? true
          : resource.type === 'team'
            ? (await this.directory.team(orgId, resource.id)) !== null
            : resource.type === 'user'
              ? (await this.directory.user(resource.id))?.orgId === orgId
              : await this.apiKeys
                  .state(resource.id)
                  .then((k) => k.keyId !== null && k.orgId === orgId && !k.revoked);
    if (!live) throw unknown('resource.id', `${resource.type} ${resource.id}`);
    if (principal.type === 'role') {
      if (!roleGrants(await this.rbac.roles(orgId), principal.id))
        throw unknown('principal.id', `role ${principal.id}`);
    } else await this.livePrincipal(orgId, { type: principal.type, id: principal.id });
    return {
      resource: { type: resource.type, id: resource.id },
      principal: { type: principal.type, id: principal.id },
      permissions: body.permissions,
    };
  }

  /** What a caller may grant on a resource: their roles covering it and their ACL entries on it. */
  aclGranter(caller: Principal, orgId: string, resource: AclEntry['resource']) {
    return this.rbac.granterOf(caller, orgId, {
      orgId,
      resource,
      ...(resource.type === 'team' ? { teamId: resource.id } : {}),
    });
  }

  async role(orgId: string, roleId: string): Promise<RoleView> {
    const role = rolesOf(await this.state(orgId)).find((r) => r.roleId === roleId);
    if (!role) throw roleNotFound(roleId);
    return role;
  }

  /** Sends a roles command through the CommandBus (ChangeRolesHandler: the roles decider on `roles-<orgId>`). */
  async run(ctx: CommandContext, orgId: string, command: RolesCommand): Promise<RolesState> {
    return this.commands.execute(new ChangeRoles(ctx, orgId, command));
  }

  granter(caller: Principal, orgId: string, scope: RoleScope = { type: 'org' }) {
    return this.rbac.granterOf(caller, orgId, scope);
  }

  /** An assignment naming a live principal and team of the org (404 otherwise). */
  async assignment(
    orgId: string,
    body: { principal: RolePrincipal; roleId: string; scope: { type: 'org' | 'team'; teamId?: string } },
  ): Promise<Assignment> {
    const { principal, roleId } = body;
    if (body.scope.type === 'team' && !body.scope.teamId)
      throw new ValidationError('a team scope names its team', [
        { field: 'scope.teamId', problem: 'missing' },
      ]);
    const scope: RoleScope =
      body.scope.type === 'org' ? { type: 'org' } : { type: 'team', teamId: body.scope.teamId! };
    if (scope.type === 'team' && !(await this.directory.team(orgId, scope.teamId)))
      throw new NotFoundError(`team ${scope.teamId} not found`, [
        { field: 'scope.teamId', problem: 'unknown' },
      ]);
    await this.livePrincipal(orgId, principal);
    return { principal: { type: principal.type, id: principal.id }, roleId, scope };
  }

  async livePrincipal(orgId: string, p: RolePrincipal): Promise<void> {
    const live =
      p.type === 'user'
        ? (await this.directory.user(p.id))?.orgId === orgId
        : p.type === 'team'
          ? (await this.directory.team(orgId, p.id)) !== null
          : await this.apiKeys.state(p.id).then((k) => k.keyId !== null && k.orgId === orgId && !k.revoked);
    if (!live)
      throw new NotFoundError(`${p.type} ${p.id} not found`, [{ field: 'principal.id', problem: 'unknown' }]);
  }
}

/** A command on an org's roles, permissions and assignments (the roles decider decides it). */
export class ChangeRoles {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly command: RolesCommand,
  ) {}
}

@CommandHandler(ChangeRoles)
export class ChangeRolesHandler implements ICommandHandler<ChangeRoles, RolesState> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: DirectoryLookup,
    private readonly rbac: Rbac,
  ) {}

  async execute({ ctx, orgId, command }: ChangeRoles): Promise<RolesState> {
    if (!(await this.directory.org(orgId))) throw orgNotFound(orgId);
    await this.executor.execute(AccessStreams.roles(orgId), rolesDecider, command, ctx, { orgId });
    return this.rbac.roles(orgId);
  }
}
