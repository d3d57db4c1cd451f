import { Injectable } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor, orgNotFound } from '@purser/core';
import { DirectoryLookup } from '@purser/directory';
import { MfaRequirement } from '../events';
import { SetOrgMfaPolicy } from './mfa.commands';
import { mfaPolicyDecider } from './mfa-policy.decider';
import { AccessStreams } from '../streams';

export interface MfaPolicyView {
  orgId: string;
  required: MfaRequirement;
}

/** An org's MFA policy, read from its policy stream ('none' until one is set). */
@Injectable()
export class MfaPolicies {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: DirectoryLookup,
  ) {}

  async of(orgId: string): Promise<MfaPolicyView> {
    if (!(await this.directory.org(orgId))) throw orgNotFound(orgId);
    const { state } = await this.executor.current(AccessStreams.policy(orgId), mfaPolicyDecider);
    return { orgId, required: state.required };
  }
}

@CommandHandler(SetOrgMfaPolicy)
export class SetOrgMfaPolicyHandler implements ICommandHandler<SetOrgMfaPolicy, MfaPolicyView> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly policies: MfaPolicies,
  ) {}

  async execute({ ctx, input }: SetOrgMfaPolicy): Promise<MfaPolicyView> {
    await this.policies.of(input.orgId);
    await this.executor.execute(
      AccessStreams.policy(input.orgId),
      mfaPolicyDecider,
      { type: 'SetMfaPolicy', orgId: input.orgId, required: input.required },
      ctx,
      { orgId: input.orgId },
    );
    return { orgId: input.orgId, required: input.required };
  }
}
