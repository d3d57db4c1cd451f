import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import {
  CommandContext,
  Principal,
  ValidationError,
  instantOrThrow,
  orgNotFound,
  uuidv7,
} from '@purser/core';
import { DirectoryLookup } from '@purser/directory';
import { Caller, Ctx, Endpoint, Gatekeeper, IdPipe } from '@purser/platform';
import { PERMISSION_CATALOGUE } from './catalogue';
import {
  AclEntryDto,
  AsOfQuery,
  AssignmentDto,
  CreateRoleDto,
  DefinePermissionDto,
  PermissionCheckDto,
  UpdateRoleDto,
} from './permissions.dto';
import { PermissionSchemas as S } from './permissions.schemas';
import { Rbac, Target } from './rbac';
import { Roles, permissionsOf, rolesOf } from './roles';
import { sameAclTarget } from './roles.decider';

const OrgId = () => Param('orgId', IdPipe);
const RoleId = () => Param('roleId', IdPipe);
const PERMISSION_PARAM = /^[a-z][a-z0-9-]{0,31}(\.[a-z][a-z0-9-]{0,31}){0,4}$/;

const asOfOf = (q: { asOf?: string }) => (q.asOf === undefined ? undefined : instantOrThrow(q.asOf, 'asOf'));

const PermissionParam = () =>
  ApiParam({ name: 'permission', schema: { type: 'string', pattern: PERMISSION_PARAM.source } });

function permissionParam(p: string): string {
  if (!PERMISSION_PARAM.test(p))
    throw new ValidationError('permission must look like usage.record', [
      { field: 'permission', problem: 'invalid' },
    ]);
  return p;
}

/** The permission catalogue, an org's custom permissions, and the permission check. */
@ApiTags('roles')
@Controller('v1')
export class PermissionsController {
  constructor(
    private readonly roles: Roles,
    private readonly rbac: Rbac,
    private readonly gatekeeper: Gatekeeper,
    private readonly directory: DirectoryLookup,
  ) {}

  @Get('permissions')
  @Endpoint({
    summary: 'The permission catalogue: every permission the routes declare',
    requires: 'permission.read',
    ok: { description: 'The permissions', schema: S.permissions },
  })
  catalogue() {
    return { items: PERMISSION_CATALOGUE.map((p) => ({ ...p, custom: false })) };
  }

  @Get('orgs/:orgId/permissions')
  @Endpoint({
    summary: "The catalogue and the org's custom permissions",
    requires: 'permission.read',
    ok: { description: 'The permissions', schema: S.permissions },
    errors: [404],
  })
  async ofOrg(@OrgId() orgId: string) {
    return { items: permissionsOf(await this.roles.state(orgId)) };
  }

  @Post('orgs/:orgId/permissions')
  @Endpoint({
    summary: 'Define a custom permission for agents and tools to check (its name is not in the catalogue)',
    requires: 'role.manage',
    created: { description: 'Defined', schema: S.permission },
    errors: [404, 409],
  })
  async define(@Ctx() ctx: CommandContext, @OrgId() orgId: string, @Body() body: DefinePermissionDto) {
    await this.roles.run(ctx, orgId, { type: 'DefinePermission', orgId, ...body });
    return { name: body.name, description: body.description, custom: true };
  }

  @Post('permission-checks')
  @HttpCode(200)
  @Endpoint({
    summary:
      'Whether a principal holds a permission in an org (or team, or on a resource), and through which roles or ACL entries',
    description:
      'Asking about another principal than yourself needs role.read in that org. With asOf, the answer is as things ' +
      'stood then: the roles stream, the memberships and the team tree folded up to that instant.',
    requires: 'permission.read',
    ok: { description: 'The answer', schema: S.check },
    errors: [404],
  })
  async check(@Caller() caller: Principal, @Body() body: PermissionCheckDto) {
    const { orgId, teamId, permission, resource } = body;
    const asOf = asOfOf(body);
    await this.gatekeeper.authorize(caller, 'permission.read', { orgId });
    const self = caller.actor.type === body.principal.type && caller.actor.id === body.principal.id;
    if (!self) await this.gatekeeper.authorize(caller, 'role.read', { orgId });
    if (!(await this.directory.org(orgId))) throw orgNotFound(orgId);
    // As of an instant the principal may be gone since: it then holds what it held then.
    if (asOf === undefined) await this.roles.livePrincipal(orgId, body.principal);
    const holdings = await this.rbac.holdings(orgId, body.principal, undefined, asOf);
    const target: Target = { orgId };
    if (teamId !== undefined) target.teamId = teamId;
    else if (resource?.type === 'team') target.teamId = resource.id;
    if (resource) target.resource = { type: resource.type, id: resource.id };
    return this.rbac.explain(holdings, permission, target);
  }
}

/** An org's roles: the built-in ones and its custom roles, and who holds which where. */
@ApiTags('roles')
@Controller('v1/orgs/:orgId')
export class RolesController {
  constructor(private readonly roles: Roles) {}

  @Post('roles')
  @Endpoint({
    summary: 'Create a custom role (you hold every permission you put in it)',
    requires: 'role.manage',
    created: { description: 'Created', schema: S.role },
    errors: [404, 409, 422],
  })
  async create(
    @Ctx() ctx: CommandContext,
    @Caller() caller: Principal,
    @OrgId() orgId: string,
    @Body() body: CreateRoleDto,
  ) {
    const roleId = uuidv7();
    const granter = await this.roles.granter(caller, orgId);
    await this.roles.run(ctx, orgId, {
      type: 'CreateRole',
      orgId,
      roleId,
      name: body.name,
      description: body.description ?? '',
      permissions: body.permissions,
      granter,
    });
    return this.roles.role(orgId, roleId);
  }

  @Get('roles')
  @Endpoint({
    summary: "The org's roles, built-in first",
    requires: 'role.read',
    ok: { description: 'The roles', schema: S.roles },
    errors: [404],
  })
  async list(@OrgId() orgId: string) {
    return { items: rolesOf(await this.roles.state(orgId)) };
  }

  @Get('roles/:roleId')
  @Endpoint({
    summary: 'Read a role',
    requires: 'role.read',
    ok: { description: 'The role', schema: S.role },
    errors: [404],
  })
  read(@OrgId() orgId: string, @RoleId() roleId: string) {
    return this.roles.role(orgId, roleId);
  }

  @Patch('roles/:roleId')
  @Endpoint({
    summary: 'Rename or describe a custom role',
    requires: 'role.manage',
    ok: { description: 'The role', schema: S.role },
    errors: [404, 409],
  })
  async update(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @RoleId() roleId: string,
    @Body() body: UpdateRoleDto,
  ) {
    await this.roles.run(ctx, orgId, { type: 'UpdateRole', orgId, roleId, ...body });
    return this.roles.role(orgId, roleId);
  }

  @Delete('roles/:roleId')
  @HttpCode(204)
  @Endpoint({
    summary: 'Delete a custom role (its assignments go with it)',
    requires: 'role.manage',
    responses: [{ status: 204, description: 'Deleted' }],
    errors: [404, 409],
  })
  async remove(@Ctx() ctx: CommandContext, @OrgId() orgId: string, @RoleId() roleId: string) {
    await this.roles.run(ctx, orgId, { type: 'DeleteRole', orgId, roleId });
  }

  @Put('roles/:roleId/permissions/:permission')
  @PermissionParam()
  @Endpoint({
    summary: 'Add a permission to a custom role (one you hold)',
    requires: 'role.manage',
    ok: { description: 'The role', schema: S.role },
    errors: [404, 409, 422],
  })
  async addPermission(
    @Ctx() ctx: CommandContext,
    @Caller() caller: Principal,
    @OrgId() orgId: string,
    @RoleId() roleId: string,
    @Param('permission') permission: string,
  ) {
    const granter = await this.roles.granter(caller, orgId);
    permission = permissionParam(permission);
    await this.roles.run(ctx, orgId, { type: 'AddRolePermission', orgId, roleId, permission, granter });
    return this.roles.role(orgId, roleId);
  }

  @Delete('roles/:roleId/permissions/:permission')
  @PermissionParam()
  @Endpoint({
    summary: 'Remove a permission from a custom role',
    requires: 'role.manage',
    ok: { description: 'The role', schema: S.role },
    errors: [404, 409],
  })
  async removePermission(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @RoleId() roleId: string,
    @Param('permission') permission: string,
  ) {
    permission = permissionParam(permission);
    await this.roles.run(ctx, orgId, { type: 'RemoveRolePermission', orgId, roleId, permission });
    return this.roles.role(orgId, roleId);
  }

  @Put('role-assignments')
  @Endpoint({
    summary: 'Assign a role to a user, team or API key at the org or a team (and the teams below it)',
    description: 'You hold every permission of the role there; only an owner assigns owner',
    requires: 'role.manage',
    ok: { description: 'The assignment', schema: S.assignment },
    errors: [404],
  })
  async assign(
    @Ctx() ctx: CommandContext,
    @Caller() caller: Principal,
    @OrgId() orgId: string,
    @Body() body: AssignmentDto,
  ) {
    const a = await this.roles.assignment(orgId, body);
    const granter = await this.roles.granter(caller, orgId, a.scope);
    await this.roles.run(ctx, orgId, { type: 'AssignRole', orgId, granter, ...a });
    return a;
  }

  @Delete('role-assignments')
  @HttpCode(204)
  @Endpoint({
    summary: 'Revoke a role assignment (the last owner stays: 409)',
    requires: 'role.manage',
    responses: [{ status: 204, description: 'Revoked (or there was no such assignment)' }],
    errors: [404, 409],
  })
  async revoke(
    @Ctx() ctx: CommandContext,
    @Caller() caller: Principal,
    @OrgId() orgId: string,
    @Body() body: AssignmentDto,
  ) {
    const a = await this.roles.assignment(orgId, body);
    const granter = await this.roles.granter(caller, orgId, a.scope);
    await this.roles.run(ctx, orgId, { type: 'RevokeRole', orgId, granter, ...a });
  }

  @Get('role-assignments')
  @Endpoint({
    summary: "The org's role assignments",
    requires: 'role.read',
    ok: { description: 'The assignments', schema: S.assignments },
    errors: [404],
  })
  async assignments(@OrgId() orgId: string, @Query() q: AsOfQuery) {
    return { items: (await this.roles.state(orgId, asOfOf(q))).assignments };
  }

  @Put('acl')
  @Endpoint({
    summary:
      'Grant permissions on one resource (a quota, team, user, API key or the org) to a user, team, role or API key',
    description:
      'Allow-only, added to what roles grant; you hold every permission you grant on that resource',
    requires: 'role.manage',
    ok: { description: 'The entry as it now stands', schema: S.aclEntry },
    errors: [404, 422],
  })
  async grantAcl(
    @Ctx() ctx: CommandContext,
    @Caller() caller: Principal,
    @OrgId() orgId: string,
    @Body() body: AclEntryDto,
  ) {
    const entry = await this.roles.aclEntry(orgId, body);
    const granter = await this.roles.aclGranter(caller, orgId, entry.resource);
    const s = await this.roles.run(ctx, orgId, { type: 'GrantAcl', orgId, granter, ...entry });
    return s.acl.find((e) => sameAclTarget(e, entry)) ?? { ...entry, permissions: [] };
  }

  @Delete('acl')
  @HttpCode(204)
  @Endpoint({
    summary: 'Revoke permissions granted on one resource',
    requires: 'role.manage',
    responses: [{ status: 204, description: 'Revoked (or they were not granted)' }],
    errors: [404, 422],
  })
  async revokeAcl(
    @Ctx() ctx: CommandContext,
    @Caller() caller: Principal,
    @OrgId() orgId: string,
    @Body() body: AclEntryDto,
  ) {
    const entry = await this.roles.aclEntry(orgId, body);
    const granter = await this.roles.aclGranter(caller, orgId, entry.resource);
    await this.roles.run(ctx, orgId, { type: 'RevokeAcl', orgId, granter, ...entry });
  }

  @Get('acl')
  @Endpoint({
    summary: "The org's ACL entries (now, or asOf an instant)",
    requires: 'role.read',
    ok: { description: 'The entries', schema: S.aclEntries },
    errors: [404],
  })
  async acl(@OrgId() orgId: string, @Query() q: AsOfQuery) {
    return { items: (await this.roles.state(orgId, asOfOf(q))).acl };
  }
}
