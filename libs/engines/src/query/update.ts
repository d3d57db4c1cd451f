import { Document, UpdateOp, UpdateOptions, UpdateSpec, ValidationError } from '@purser/core';
import { validateArray, validateId } from './schema';
import { CompiledField, compileFilter } from './filter';
import { compareValues, hasOwn, invalid, isPlainObject, isScalar, splitPath } from './values';

/*
 * The port's update language: validation into steps every adapter translates, and the in-memory application that
 * defines its semantics (used by the SQLite and in-memory adapters, and to build an upsert's new document).
 */

/** What a step does (exported for adapters that translate steps). */
export enum UpdateKind {
  SetOnInsert,
  Set,
  Unset,
  Inc,
  Max,
  Min,
  Push,
}

const UPDATE_OPS: Record<string, UpdateKind> = {
  $setOnInsert: UpdateKind.SetOnInsert,
  $set: UpdateKind.Set,
  $unset: UpdateKind.Unset,
  $inc: UpdateKind.Inc,
  $max: UpdateKind.Max,
  $min: UpdateKind.Min,
  $push: UpdateKind.Push,
};

export interface UpdateStep {
  kind: UpdateKind;
  /** The operator, e.g. '$inc'. */
  op: string;
  path: string;
  segs: string[];
  value: any;
  /** $push: the values to append. */
  each?: unknown[];
}

export interface CompiledUpdate {
  steps: UpdateStep[];
  /** Every step $sets a top-level field (the SQLite adapter writes such updates in SQL, without parsing the document). */
  topLevelSetsOnly: boolean;
}

/** Validates an update (operators, paths, no two paths overlapping, never _id). Throws ValidationError. */
export function compileUpdate(update: UpdateSpec): CompiledUpdate {
  if (!isPlainObject(update))
    throw new ValidationError('update must be an object', [{ field: 'update', problem: 'not an object' }]);
  const steps: UpdateStep[] = [];
  let topLevelSetsOnly = true;
  for (const opName in update) {
    const kind = UPDATE_OPS[opName];
    if (kind === undefined) throw invalid('update', opName, `unsupported update operator ${opName}`);
    const fields = (update as Record<string, unknown>)[opName];
    if (fields === undefined) continue;
    if (!isPlainObject(fields)) throw invalid('update', opName, 'operator value must be an object of fields');
    for (const path in fields) {
      const value = fields[path];
      const segs = splitPath(path);
      if (segs[0] === '_id') throw invalid('update', path, '_id is immutable');
      const step: UpdateStep = { kind, op: opName, path, segs, value };
      switch (kind) {
        case UpdateKind.Inc:
          if (typeof value !== 'number' || !Number.isFinite(value))
            throw invalid('update', path, '$inc needs a finite number');
          break;
        case UpdateKind.Max:
        case UpdateKind.Min:
          if (!isScalar(value)) throw invalid('update', path, `${opName} needs a scalar`);
          break;
        case UpdateKind.Push:
          if (isPlainObject(value) && Object.keys(value).some((k) => k.startsWith('$'))) {
            const keys = Object.keys(value);
            if (keys.length !== 1 || keys[0] !== '$each' || !Array.isArray(value.$each)) {
              throw invalid('update', path, '$push supports one value or { $each: [...] } only');
            }
            step.each = value.$each as unknown[];
          } else {
            if (value === undefined) throw invalid('update', path, '$push needs a value');
            step.each = [value];
          }
          break;
        case UpdateKind.Set:
        case UpdateKind.SetOnInsert:
          if (value === undefined) throw invalid('update', path, `${opName} needs a value`);
          break;
        default:
          break;
      }
      if (kind !== UpdateKind.Set || segs.length !== 1) topLevelSetsOnly = false;
      steps.push(step);
    }
  }
  if (steps.length === 0)
    throw new ValidationError('update has no fields to change', [{ field: 'update', problem: 'empty' }]);
  for (let i = 0; i < steps.length; i++) {
    for (let j = i + 1; j < steps.length; j++) {
      const a = steps[i].path;
      const b = steps[j].path;
      if (
        a === b ||
        (b.length > a.length
          ? b.startsWith(a) && b[a.length] === '.'
          : a.startsWith(b) && a[b.length] === '.')
      ) {
        throw invalid('update', b, `updating ${b} would conflict with ${a}`);
      }
    }
  }
  return { steps, topLevelSetsOnly };
}

/** The parent object of a path's last segment, creating missing objects on the way. */
function parentOf(doc: Record<string, any>, segs: readonly string[]): Record<string, any> {
  let cur = doc;
  for (let i = 0; i < segs.length - 1; i++) {
    const s = segs[i];
    let next = hasOwn.call(cur, s) ? cur[s] : undefined;
    if (next === undefined) {
      next = {};
      cur[s] = next;
    } else if (!isPlainObject(next)) {
      throw new ValidationError(
        `cannot create field ${segs[i + 1]} in ${segs.slice(0, i + 1).join('.')}: not an object`,
        [{ field: segs.join('.'), problem: 'path crosses a non-object value' }],
      );
    }
    cur = next;
  }
  return cur;
}

/**
 * Applies an update to a document in place. `inserting` is true when the document is being created by an
 * upsert: then $setOnInsert applies and every operator starts from a missing field ($inc from 0).
 */
export function applyUpdate(doc: Record<string, any>, update: CompiledUpdate, inserting: boolean): void {
  for (const step of update.steps) {
    const { segs } = step;
    const last = segs[segs.length - 1];
    switch (step.kind) {
      case UpdateKind.SetOnInsert:
        if (inserting) parentOf(doc, segs)[last] = step.value;
        break;
      case UpdateKind.Set:
        parentOf(doc, segs)[last] = step.value;
        break;
      case UpdateKind.Unset: {
        let cur: any = doc;
        for (let i = 0; i < segs.length - 1 && cur !== undefined; i++) {
          cur = isPlainObject(cur) && hasOwn.call(cur, segs[i]) ? cur[segs[i]] : undefined;
        }
        if (isPlainObject(cur) && hasOwn.call(cur, last)) delete cur[last];
        break;
      }
      case UpdateKind.Inc: {
        const parent = parentOf(doc, segs);
        const cur = hasOwn.call(parent, last) ? parent[last] : undefined;
        if (cur === undefined) parent[last] = step.value;
        else if (typeof cur === 'number') parent[last] = cur + step.value;
        else throw typeMismatch(step.path, '$inc', 'a non-numeric value');
        break;
      }
      case UpdateKind.Max:
      case UpdateKind.Min: {
        const parent = parentOf(doc, segs);
        const cur = hasOwn.call(parent, last) ? parent[last] : undefined;
        if (cur === undefined) parent[last] = step.value;
        else {
          const d = compareValues(step.value, cur);
          if (step.kind === UpdateKind.Max ? d > 0 : d < 0) parent[last] = step.value;
        }
        break;
      }
      case UpdateKind.Push: {
        const parent = parentOf(doc, segs);
        const cur = hasOwn.call(parent, last) ? parent[last] : undefined;
        if (cur === undefined) parent[last] = step.each!.slice();
        else if (Array.isArray(cur)) for (const e of step.each!) cur.push(e);
        else throw typeMismatch(step.path, '$push', 'a non-array value');
        break;
      }
    }
  }
}

function typeMismatch(path: string, op: string, what: string): ValidationError {
  return new ValidationError(`cannot apply ${op} to ${path}: it holds ${what}`, [
    { field: path, problem: 'type mismatch' },
  ]);
}

/** The document an upsert inserts: only _id and the fields of the update (guards are never copied). */
export function buildInsertDocument(id: string, update: CompiledUpdate): Document {
  const doc: Document = { _id: id };
  applyUpdate(doc, update, true);
  return doc;
}

/** An update's options, validated: the guard compiled like a filter. */
export interface CompiledOptions {
  upsert: boolean;
  guard: CompiledField[];
}

export function compileOptions(options: UpdateOptions | undefined): CompiledOptions {
  return { upsert: options?.upsert === true, guard: compileFilter(options?.guard, 'guard') };
}

/** One op of a bulkUpdate, validated. */
export interface CompiledOp {
  id: string;
  update: CompiledUpdate;
  options: CompiledOptions;
}

/** Validates every op of a bulkUpdate before any applies (one invalid op refuses the batch). */
/** One update's arguments, validated and compiled (ReadStore.update; each op of bulkUpdate). */
export function compileOp(id: string, update: UpdateSpec, options: UpdateOptions | undefined): CompiledOp {
  return { id: validateId(id), update: compileUpdate(update), options: compileOptions(options) };
}

export function compileOps(ops: UpdateOp[]): CompiledOp[] {
  validateArray(ops, 'ops');
  return ops.map((op) => compileOp(op?.id, op?.update, op?.options));
}
