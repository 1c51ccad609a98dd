// The Kubernetes name rules, written from the Kubernetes source, not from src/: the property tests compare
// the plugin's validators with these on every input they generate. Explicit character and length checks,
// so that a regex copied from the code could not make both sides wrong the same way.
//
// kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go:
//   IsDNS1123Label      at most 63 (DNS1123LabelMaxLength); lower-case alphanumerics and '-', starting and
//                       ending with an alphanumeric
//   IsDNS1123Subdomain  at most 253 (DNS1123SubdomainMaxLength); one or more such labels joined by '.'
//                       (no length limit per label beyond the total)
//   IsConfigMapKey      at most 253; alphanumerics (either case), '-', '_' and '.'; not '.', not '..', not
//                       starting with '..' (hasChDirPrefix)
// Which rule applies where:
//   namespace names     staging/src/k8s.io/apimachinery/pkg/api/validation/generic.go: ValidateNamespaceName = NameIsDNSLabel
//   Secret names        pkg/apis/core/validation/validation.go: ValidateSecretName = NameIsDNSSubdomain
//   Secret data keys    pkg/apis/core/validation/validation.go ValidateSecret: IsConfigMapKey for every key of data
// Lengths there are Go len() (bytes); every allowed character is ASCII, so any string that passes the
// character checks has as many bytes as UTF-16 units and the two counts agree.

const LABEL_MAX = 63;
const SUBDOMAIN_MAX = 253;
const KEY_MAX = 253;

function isLowerAlnum(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

function isAsciiAlnum(c: string): boolean {
  return isLowerAlnum(c) || (c >= 'A' && c <= 'Z');
}

/** One label without its length limit: the unit a subdomain is made of. */
function isLabelShape(s: string): boolean {
  if (s.length === 0) return false;
  for (const c of s) if (!isLowerAlnum(c) && c !== '-') return false;
  return s[0] !== '-' && s[s.length - 1] !== '-';
}

/** RFC 1123 label, as Kubernetes checks namespace names. */
export function isDns1123Label(s: string): boolean {
  return s.length <= LABEL_MAX && isLabelShape(s);
}

/** RFC 1123 subdomain, as Kubernetes checks Secret names. */
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= SUBDOMAIN_MAX && s.split('.').every(isLabelShape);
}

/** A key of a Secret's data (IsConfigMapKey). */
export function isSecretDataKey(s: string): boolean {
  if (s.length === 0 || s.length > KEY_MAX) return false;
  for (const c of s) if (!isAsciiAlnum(c) && c !== '-' && c !== '_' && c !== '.') return false;
  return s !== '.' && s !== '..' && !s.startsWith('..');
}
