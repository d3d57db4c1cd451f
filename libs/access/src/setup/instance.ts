import { Injectable } from '@nestjs/common';
import { CommandExecutor } from '@purser/core';
import { instanceDecider } from './instance.decider';
import { AccessStreams } from '../streams';

/** Who the instance administrator is (the setup owner), read from the instance stream. */
@Injectable()
export class Instance {
  constructor(private readonly executor: CommandExecutor) {}

  async state() {
    return (await this.executor.current(AccessStreams.instance(), instanceDecider)).state;
  }

  async isSetUp(): Promise<boolean> {
    return (await this.state()).completed !== null;
  }

  async isAdministrator(userId: string): Promise<boolean> {
    return (await this.state()).completed?.userId === userId;
  }
}
