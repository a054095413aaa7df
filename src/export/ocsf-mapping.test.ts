import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyAction, loadOcsfMapping, parseOcsfMapping } from './ocsf-mapping.ts';

describe('OCSF mapping: defaults', () => {
  it.each([
    ['user.login', 3002, 1],
    ['user.login_failed', 3002, 1],
    ['user.logout', 3002, 2],
    ['member.role_changed', 3001, 7],
    ['member.role_revoked', 3001, 8],
    ['user.password_reset', 3001, 4],
    ['user.mfa_enabled', 3001, 10],
    ['user.renamed', 3004, 3],
    ['user.something_new', 3001, 99],
    ['api_key.created', 3004, 1],
    ['api_key.revoked', 3004, 4],
    ['api_key.rotated', 3004, 3],
    ['document.read', 3004, 2],
    ['document.updated', 3004, 3],
    ['document.exported', 3004, 2],
    ['document.created', 3004, 1],
    ['document.deleted', 3004, 4],
    ['document.archived', 3004, 99],
    ['invoice.created', 3004, 1],
    ['billing.invoice.deleted', 3004, 4],
    ['deploy.started', 6003, 99],
    ['created', 6003, 99],
    ['thread', 6003, 99],
  ])('%s → %i/%i', (action, classUid, activityId) => {
    expect(classifyAction(action)).toEqual({ class_uid: classUid, activity_id: activityId });
  });
});

describe('OCSF mapping: overrides', () => {
  const overrides = parseOcsfMapping(
    JSON.stringify({
      'document.*': { class_uid: 6003, activity_id: 2 },
      'document.secret.*': { class_uid: 3004, activity_id: 99 },
      'document.read': { class_uid: 3004, activity_id: 2 },
      '*.approved': { class_uid: 3004, activity_id: 3 },
    }),
    'test',
  );

  it('win over the defaults: exact, then suffix, then the longest prefix', () => {
    expect(classifyAction('document.read', overrides)).toEqual({ class_uid: 3004, activity_id: 2 });
    expect(classifyAction('document.updated', overrides)).toEqual({ class_uid: 6003, activity_id: 2 });
    expect(classifyAction('document', overrides)).toEqual({ class_uid: 6003, activity_id: 2 });
    expect(classifyAction('document.secret.opened', overrides)).toEqual({ class_uid: 3004, activity_id: 99 });
    expect(classifyAction('document.approved', overrides)).toEqual({ class_uid: 3004, activity_id: 3 });
    expect(classifyAction('user.login', overrides)).toEqual({ class_uid: 3002, activity_id: 1 });
  });

  it('come from TRAILPROOF_OCSF_MAPPING or TRAILPROOF_OCSF_MAPPING_FILE', () => {
    const json = '{ "user.sso_login": { "class_uid": 3002, "activity_id": 1 } }';
    expect(loadOcsfMapping({ TRAILPROOF_OCSF_MAPPING: json }).get('user.sso_login')).toEqual({ class_uid: 3002, activity_id: 1 });
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'ocsf-')), 'mapping.json');
    writeFileSync(file, json);
    expect(loadOcsfMapping({ TRAILPROOF_OCSF_MAPPING_FILE: file }).size).toBe(1);
    expect(loadOcsfMapping({}).size).toBe(0);
  });

  it.each([
    [{ TRAILPROOF_OCSF_MAPPING: '{ nope' }, 'not valid JSON'],
    [{ TRAILPROOF_OCSF_MAPPING: '[]' }, 'must be a JSON object'],
    [{ TRAILPROOF_OCSF_MAPPING: '{ "User.Login": { "class_uid": 3002, "activity_id": 1 } }' }, '"User.Login" is not an action pattern'],
    [{ TRAILPROOF_OCSF_MAPPING: '{ "a.*.b": { "class_uid": 3002, "activity_id": 1 } }' }, 'is not an action pattern'],
    [{ TRAILPROOF_OCSF_MAPPING: '{ "a": 3002 }' }, 'must map to'],
    [{ TRAILPROOF_OCSF_MAPPING: '{ "a": { "class_uid": 3002, "activity_id": 1, "status_id": 2 } }' }, 'unknown key(s) "status_id"'],
    [{ TRAILPROOF_OCSF_MAPPING: '{ "a": { "class_uid": 4001, "activity_id": 1 } }' }, 'class_uid must be one of 3001, 3002, 3004, 6003 (got 4001)'],
    [{ TRAILPROOF_OCSF_MAPPING: '{ "a": { "class_uid": 3002, "activity_id": 7 } }' }, 'activity_id for class 3002 (Authentication) must be one of'],
    [{ TRAILPROOF_OCSF_MAPPING: '{ "a": { "class_uid": 6003, "activity_id": "1" } }' }, '(got "1")'],
    [{ TRAILPROOF_OCSF_MAPPING: '{}', TRAILPROOF_OCSF_MAPPING_FILE: '/x' }, 'only one of'],
    [{ TRAILPROOF_OCSF_MAPPING_FILE: '/nonexistent/mapping.json' }, 'cannot read /nonexistent/mapping.json (ENOENT)'],
  ])('rejects %j with CONFIG_INVALID', (env, message) => {
    expect(() => loadOcsfMapping(env)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(message) }));
  });
});
