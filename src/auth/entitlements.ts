/**
 * @module auth/entitlements
 * Group (VO) membership from an OIDC claim. EGI Check-in writes it as AARC entitlements,
 * `urn:mace:egi.eu:group:<vo>[:<subgroup>…]:role=<role>#aai.egi.eu`; other providers as a plain list of group
 * names (`groups`). Both give the group path (`vo.example.eu`, `vo.example.eu:sub`).
 */

const ENTITLEMENT = /^urn:[^#]*?:group:(?<group>[^#]+?)(?::role=(?<role>[^#:]+))?(?:#.*)?$/;

/** The group named by one claim value, or null when an entitlement is for a role other than member. */
export function groupOfEntitlement(value: string): string | null {
  const match = ENTITLEMENT.exec(value);
  if (!match?.groups) return value.trim() === '' ? null : value.trim();
  const role = match.groups.role;
  // Every EGI role (member, vm_operator, manager…) implies membership, as in OSCAR.
  if (role !== undefined && role === '') return null;
  return match.groups.group ?? null;
}

/** The groups a token's claim names; strings, space-separated strings and arrays are accepted. */
export function groupsFromClaim(claim: unknown): string[] {
  const values: string[] = [];
  if (typeof claim === 'string') values.push(...claim.split(/\s+/));
  else if (Array.isArray(claim)) for (const item of claim) if (typeof item === 'string') values.push(item);
  const groups = new Set<string>();
  for (const value of values) {
    const group = groupOfEntitlement(value);
    if (group !== null) groups.add(group);
  }
  return [...groups].sort();
}

/**
 * Whether a user with `groups` is admitted when the platform allows only `allowed` (OSCAR's OIDC_GROUPS;
 * empty: everyone). A member of a subgroup is a member of its VO.
 */
export function inAllowedGroups(groups: readonly string[], allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  return groups.some((group) => allowed.some((vo) => group === vo || group.startsWith(`${vo}:`)));
}
