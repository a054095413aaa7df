/**
 * The built-in rule pack: rules for the first questions asked of an audit trail, off until a tenant
 * installs one (`POST /v1/alert-rules {"builtin": "<name>", "channels": …}`). Each is an ordinary
 * rule once installed (changed and deleted like any other); the action names follow the
 * `<resource>.<verb>` convention of docs/events.md, matched by suffix so any resource qualifies.
 */
import type { AlertRuleInput } from './alert-rules.ts';
import { WORKING_HOURS } from './outside-hours.ts';

export interface BuiltinRule {
  description: string;
  rule: Required<Pick<AlertRuleInput, 'name' | 'kind' | 'filter' | 'params'>> & Pick<AlertRuleInput, 'outside_hours' | 'cooldown_seconds'>;
}

const HOUR = 3600;

export const BUILTIN_RULES: Readonly<Record<string, BuiltinRule>> = Object.freeze({
  failed_login_burst: {
    description: 'ten failed logins of one actor within an hour',
    rule: {
      name: 'Failed-login burst',
      kind: 'threshold',
      filter: { action: '*.login_failed' },
      params: { count: 10, window_seconds: HOUR, group_by: 'actor' },
    },
  },
  privilege_granted: {
    description: 'a role, permission or privilege granted',
    rule: {
      name: 'Privilege granted',
      kind: 'threshold',
      filter: { action: '*.role_granted,*.permission_granted,*.privilege_granted,*.admin_granted' },
      params: { count: 1, window_seconds: 60, group_by: 'actor' },
    },
  },
  mass_export: {
    description: 'one actor exporting or downloading a hundred times within an hour',
    rule: {
      name: 'Mass export or download',
      kind: 'threshold',
      filter: { action: '*.exported,*.downloaded' },
      params: { count: 100, window_seconds: HOUR, group_by: 'actor' },
    },
  },
  api_key_created: {
    description: 'an API key created (in Trailproof or in the application)',
    rule: {
      name: 'API key created',
      kind: 'threshold',
      filter: { action: '*.key_created,api_key.created' },
      params: { count: 1, window_seconds: 60, group_by: 'actor' },
    },
  },
  audit_log_unusual_reader: {
    description: 'the audit trail read or exported by an actor that never read it before',
    rule: { name: 'Audit log read by a new actor', kind: 'first_seen', filter: { action: 'audit_log.*' }, params: { field: 'actor' } },
  },
  settings_changed_outside_hours: {
    description: 'settings or configuration changed outside working hours (Monday to Friday, 08:00 to 18:00 UTC unless adjusted)',
    rule: {
      name: 'Settings changed outside working hours',
      kind: 'threshold',
      filter: { action: 'settings.*,*.settings_changed,*.settings_updated,config.*,*.config_changed,*.config_updated' },
      params: { count: 1, window_seconds: 60, group_by: 'actor' },
      outside_hours: WORKING_HOURS,
    },
  },
  mfa_disabled: {
    description: 'multi-factor authentication disabled for an account',
    rule: { name: 'MFA disabled', kind: 'threshold', filter: { action: '*.mfa_disabled' }, params: { count: 1, window_seconds: 60, group_by: 'actor' } },
  },
});
