// Impersonation as kube-apiserver's filter does it (kubernetes/kubernetes
// staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go, the version the sim's 1.31 server
// runs; 1.35 moved it to filters/impersonation/ and answers a group without a user with 400 instead of 500).
import type { IncomingMessage } from 'node:http';
import type { RequestAttributes } from './authz.js';

/** Who a request acts as (k8s.io/apiserver/pkg/authentication/user.DefaultInfo). */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

export const ALL_AUTHENTICATED = 'system:authenticated';
export const ALL_UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS = 'system:anonymous';

/** A reply the filter writes as plain text (responsewriters.InternalError), not as a Status. */
export class PlainTextError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** What the caller asked to act as, from the Impersonate-* headers; for the audit log. */
export interface ImpersonationHeaders {
  user?: string;
  groups: string[];
  uid?: string;
  extra: Record<string, string[]>;
}

/** One thing to be authorized (the filter's v1.ObjectReference). */
interface Impersonation {
  kind: 'ServiceAccount' | 'User' | 'Group' | 'UserExtra' | 'UID';
  namespace: string;
  name: string;
  apiVersion: string;
  fieldPath: string;
}

const EXTRA_PREFIX = 'impersonate-extra-';
const SA_PREFIX = 'system:serviceaccount:';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** serviceaccount.SplitUsername: system:serviceaccount:NS:NAME with a valid namespace and name. */
function splitServiceAccount(user: string): { namespace: string; name: string } | undefined {
  if (!user.startsWith(SA_PREFIX)) return undefined;
  const parts = user.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts as [string, string];
  if (namespace.length > 63 || !DNS_LABEL.test(namespace) || name.length > 253 || !DNS_SUBDOMAIN.test(name)) return undefined;
  return { namespace, name };
}

/** Go's url.PathUnescape, keeping the key as sent when it is malformed (unescapeExtraKey). */
function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

export function impersonationHeaders(req: IncomingMessage): ImpersonationHeaders | undefined {
  const h = req.headersDistinct;
  const user = h['impersonate-user']?.[0];
  const uid = h['impersonate-uid']?.[0];
  const groups = h['impersonate-group'] ?? [];
  const extra: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(h)) {
    if (name.startsWith(EXTRA_PREFIX) && values) extra[unescapeExtraKey(name.slice(EXTRA_PREFIX.length))] = [...values];
  }
  if (user === undefined && uid === undefined && !groups.length && !Object.keys(extra).length) return undefined;
  return { ...(user !== undefined ? { user } : {}), groups: [...groups], ...(uid !== undefined ? { uid } : {}), extra };
}

/** buildImpersonationRequests: user (or service account), each group, each extra value, the uid. */
function impersonations(h: ImpersonationHeaders): Impersonation[] {
  const ref = (kind: Impersonation['kind'], name: string, more: Partial<Impersonation> = {}): Impersonation => ({
    kind,
    namespace: '',
    name,
    apiVersion: '',
    fieldPath: '',
    ...more,
  });
  const list: Impersonation[] = [];
  // headers.Get: an empty value is no user (and an empty uid no uid).
  if (h.user) {
    const sa = splitServiceAccount(h.user);
    list.push(sa ? ref('ServiceAccount', sa.name, { namespace: sa.namespace }) : ref('User', h.user));
  }
  for (const g of h.groups) list.push(ref('Group', g));
  for (const [key, values] of Object.entries(h.extra)) {
    for (const v of values) list.push(ref('UserExtra', v, { apiVersion: 'authentication.k8s.io/v1', fieldPath: key }));
  }
  if (h.uid) list.push(ref('UID', h.uid, { apiVersion: 'authentication.k8s.io/v1' }));
  return list;
}

/** Go's %v of a []v1.ObjectReference: each struct's fields in declaration order, space-separated. */
function goFormat(list: Impersonation[]): string {
  return `[${list.map((r) => `{${[r.kind, r.namespace, r.name, '', r.apiVersion, '', r.fieldPath].join(' ')}}`).join(' ')}]`;
}

/** responsewriters' sanitizer: nothing in an error may look like HTML. */
const sanitize = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The attributes the filter authorizes one impersonation with (verb impersonate, the name as resourceName). */
function attributesOf(r: Impersonation, requestor: string): RequestAttributes {
  const a: RequestAttributes = { user: requestor, verb: 'impersonate', group: '', resource: '', name: r.name };
  switch (r.kind) {
    case 'ServiceAccount':
      return { ...a, resource: 'serviceaccounts', namespace: r.namespace };
    case 'User':
      return { ...a, resource: 'users' };
    case 'Group':
      return { ...a, resource: 'groups' };
    case 'UserExtra':
      return { ...a, group: 'authentication.k8s.io', resource: 'userextras', subresource: r.fieldPath };
    case 'UID':
      return { ...a, group: 'authentication.k8s.io', resource: 'uids' };
  }
}

/**
 * The identity a request acts as, undefined when it impersonates no one. `authorize` checks one impersonation against the authenticated caller's
 * rights and throws the filter's 403 (responsewriters.Forbidden: the authorizer's usual message, e.g.
 * `users "admin" is forbidden: User "x" cannot impersonate resource "users" in API group "" at the cluster scope`);
 * the first denial, in the order user, groups, extras, uid, answers. Groups, extras or a uid without a user
 * are refused with 500 and a plain-text body, as this version of the filter does.
 */
export function impersonate(req: IncomingMessage, h: ImpersonationHeaders, requestor: UserInfo, authorize: (a: RequestAttributes) => void): UserInfo | undefined {
  const list = impersonations(h);
  if (!list.length) return undefined;
  if (!h.user) {
    throw new PlainTextError(500, sanitize(`Internal Server Error: ${JSON.stringify(req.url ?? '/')}: requested ${goFormat(list)} without impersonating a user`));
  }
  let name = '';
  let groups: string[] = [];
  let uid: string | undefined;
  const extra: Record<string, string[]> = {};
  // Groups given are the authority, so a service account's fixed groups are added only when none are.
  const groupsSpecified = h.groups.length > 0;
  for (const r of list) {
    switch (r.kind) {
      case 'ServiceAccount':
        name = `${SA_PREFIX}${r.namespace}:${r.name}`;
        if (!groupsSpecified) groups = ['system:serviceaccounts', `system:serviceaccounts:${r.namespace}`];
        break;
      case 'User':
        name = r.name;
        break;
      case 'Group':
        groups.push(r.name);
        break;
      case 'UserExtra':
        (extra[r.fieldPath] ??= []).push(r.name);
        break;
      case 'UID':
        uid = r.name;
        break;
    }
    authorize(attributesOf(r, requestor.name));
  }
  if (name !== ANONYMOUS) {
    if (!groups.includes(ALL_AUTHENTICATED) && !groups.includes(ALL_UNAUTHENTICATED)) groups.push(ALL_AUTHENTICATED);
  } else if (!groups.includes(ALL_UNAUTHENTICATED)) {
    groups.push(ALL_UNAUTHENTICATED);
  }
  return { name, groups, extra, ...(uid !== undefined ? { uid } : {}) };
}
