-- test/scripts/lib/extension_catalog.sql: a listing of every object that
-- belongs to the extension invoicing (pg_depend deptype 'e') and what matters
-- about it, one sorted block per object, independent of OIDs and creation
-- order, so that two databases' listings can be diffed:
--   the extension (version, schema, config tables and their dump filters),
--   its schema (owner, privileges), every member (pg_describe_object),
--   comments, pg_init_privs, functions (pg_get_functiondef, owner, proacl),
--   relations (kind, owner, relacl, persistence, RLS, replica identity,
--   options, access method), columns in order (type, NOT NULL, default,
--   identity, generated, collation, storage, statistics target, attacl),
--   constraints (pg_get_constraintdef, deferrability, validation), indexes
--   (pg_get_indexdef), triggers (pg_get_triggerdef and whether enabled),
--   policies, rules, views, sequences (parameters, OWNED BY) and types
--   (enum labels in order, domains, composites).
-- Column positions count live columns only: a dropped column left behind by
-- an update script is not a difference, a different column order is.
-- Privileges are shown as the effective ACL (a NULL ACL as the default it
-- stands for), items sorted: how a privilege came about is no difference.
CREATE FUNCTION pg_temp.acl_text(acl aclitem[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce('{' || string_agg(a::text, ',' ORDER BY a::text) || '}', '{}')
      FROM unnest(acl) AS a
$$;

WITH ext AS (
    SELECT oid, extnamespace FROM pg_extension WHERE extname = 'invoicing'
), members AS (
    SELECT d.classid, d.objid, d.objsubid
      FROM pg_depend d, ext
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid
       AND d.deptype = 'e'
), rels AS (
    SELECT c.* FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
), listing(key, line) AS (
    -- the extension itself
    SELECT 'extension', format('extension invoicing version %s relocatable %s schema %s',
                                e.extversion, e.extrelocatable, e.extnamespace::regnamespace)
      FROM pg_extension e WHERE e.extname = 'invoicing'
    UNION ALL
    SELECT 'extension config', format('config dump %s where %L', c.cfg::regclass, c.cond)
      FROM pg_extension e,
           unnest(e.extconfig, e.extcondition) AS c(cfg, cond)
     WHERE e.extname = 'invoicing'
    UNION ALL
    SELECT 'schema', format('schema %s owner %s acl %s', n.nspname, pg_get_userbyid(n.nspowner),
                            pg_temp.acl_text(coalesce(n.nspacl, acldefault('n', n.nspowner))))
      FROM ext JOIN pg_namespace n ON n.oid = ext.extnamespace
    UNION ALL
    -- every member object
    SELECT 'member ' || pg_describe_object(m.classid, m.objid, m.objsubid),
           'member ' || pg_describe_object(m.classid, m.objid, m.objsubid)
      FROM members m
    UNION ALL
    -- comments on members and their sub-objects (columns)
    SELECT 'member ' || pg_describe_object(m.classid, m.objid, 0) || ' comment',
           format('comment on %s: %s', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description)
      FROM members m JOIN pg_description d ON d.classoid = m.classid AND d.objoid = m.objid
    UNION ALL
    -- initial privileges recorded for pg_dump
    SELECT 'member ' || pg_describe_object(i.classoid, i.objoid, 0) || ' init_privs',
           format('init_privs %s (%s): %s', pg_describe_object(i.classoid, i.objoid, i.objsubid),
                  i.privtype, i.initprivs)
      FROM members m JOIN pg_init_privs i ON i.classoid = m.classid AND i.objoid = m.objid
    UNION ALL
    -- functions and procedures: whole definition, owner, privileges
    SELECT 'member ' || pg_describe_object(m.classid, m.objid, 0) || ' def',
           format(E'function %s owner %s acl %s\n%s', p.oid::regprocedure, pg_get_userbyid(p.proowner),
                  pg_temp.acl_text(coalesce(p.proacl, acldefault('f', p.proowner))),
                  CASE WHEN p.prokind IN ('f', 'p', 'w') THEN pg_get_functiondef(p.oid)
                       ELSE 'aggregate' END)
      FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
    UNION ALL
    -- relations
    SELECT 'member ' || pg_describe_object('pg_class'::regclass, r.oid, 0) || ' rel',
           format('relation %s kind %s owner %s acl %s persistence %s rls %s/%s replident %s options %s am %s',
                  r.oid::regclass, r.relkind, pg_get_userbyid(r.relowner),
                  pg_temp.acl_text(coalesce(r.relacl, acldefault(CASE r.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", r.relowner))), r.relpersistence, r.relrowsecurity,
                  r.relforcerowsecurity, r.relreplident, r.reloptions,
                  coalesce((SELECT amname FROM pg_am WHERE oid = r.relam)::text, '-'))
      FROM rels r
    UNION ALL
    -- columns in order (position among the live columns), type, default,
    -- not null, identity, generated, collation, storage, privileges
    SELECT 'member ' || pg_describe_object('pg_class'::regclass, r.oid, 0) || ' col ' || lpad(a.pos::text, 4, '0'),
           format('column %s #%s %s %s%s%s%s%s collation %s storage %s stats %s acl %s',
                  r.oid::regclass, a.pos, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod),
                  CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
                  coalesce(' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid), ''),
                  CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END,
                  CASE WHEN a.attgenerated <> '' THEN ' GENERATED ' || a.attgenerated::text ELSE '' END,
                  coalesce(a.attcollation::regcollation::text, '-'), a.attstorage, a.attstattarget,
                  pg_temp.acl_text(a.attacl))
      FROM rels r
      JOIN LATERAL (SELECT *, row_number() OVER (ORDER BY attnum) AS pos
                      FROM pg_attribute
                     WHERE attrelid = r.oid AND attnum > 0 AND NOT attisdropped) a ON true
      LEFT JOIN pg_attrdef ad ON ad.adrelid = r.oid AND ad.adnum = a.attnum
     WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
    UNION ALL
    SELECT 'member ' || pg_describe_object('pg_class'::regclass, r.oid, 0) || ' con ' || c.conname,
           format('constraint %s %s %s deferrable %s deferred %s validated %s',
                  r.oid::regclass, quote_ident(c.conname), pg_get_constraintdef(c.oid),
                  c.condeferrable, c.condeferred, c.convalidated)
      FROM rels r JOIN pg_constraint c ON c.conrelid = r.oid
    UNION ALL
    SELECT 'member ' || pg_describe_object('pg_class'::regclass, r.oid, 0) || ' idx ' || ic.relname,
           format('index %s unique %s primary %s clustered %s valid %s',
                  pg_get_indexdef(i.indexrelid), i.indisunique, i.indisprimary,
                  i.indisclustered, i.indisvalid)
      FROM rels r JOIN pg_index i ON i.indrelid = r.oid JOIN pg_class ic ON ic.oid = i.indexrelid
    UNION ALL
    SELECT 'member ' || pg_describe_object('pg_class'::regclass, r.oid, 0) || ' trg ' || t.tgname,
           format('trigger %s enabled %s', pg_get_triggerdef(t.oid), t.tgenabled)
      FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid
     WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 'member ' || pg_describe_object('pg_class'::regclass, r.oid, 0) || ' pol ' || p.polname,
           format('policy %s on %s cmd %s permissive %s roles %s using %s check %s',
                  p.polname, r.oid::regclass, p.polcmd, p.polpermissive, p.polroles::regrole[],
                  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
      FROM rels r JOIN pg_policy p ON p.polrelid = r.oid
    UNION ALL
    SELECT 'member ' || pg_describe_object('pg_class'::regclass, r.oid, 0) || ' rule ' || rw.rulename,
           format('rule %s', pg_get_ruledef(rw.oid))
      FROM rels r JOIN pg_rewrite rw ON rw.ev_class = r.oid
     WHERE rw.rulename <> '_RETURN'
    UNION ALL
    SELECT 'member ' || pg_describe_object('pg_class'::regclass, r.oid, 0) || ' view',
           format(E'view %s\n%s', r.oid::regclass, pg_get_viewdef(r.oid))
      FROM rels r WHERE r.relkind IN ('v', 'm')
    UNION ALL
    SELECT 'member ' || pg_describe_object('pg_class'::regclass, r.oid, 0) || ' seq',
           format('sequence %s type %s start %s increment %s min %s max %s cache %s cycle %s owned by %s',
                  r.oid::regclass, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin,
                  s.seqmax, s.seqcache, s.seqcycle,
                  (SELECT string_agg(pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid), ', ')
                     FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
                      AND d.deptype IN ('a', 'i') AND d.refclassid = 'pg_class'::regclass))
      FROM rels r JOIN pg_sequence s ON s.seqrelid = r.oid
    UNION ALL
    -- types: enums (labels in order), domains, composites, ranges
    SELECT 'member ' || pg_describe_object('pg_type'::regclass, t.oid, 0) || ' type',
           format('type %s kind %s owner %s acl %s%s%s%s',
                  t.oid::regtype, t.typtype, pg_get_userbyid(t.typowner),
                  pg_temp.acl_text(coalesce(t.typacl, acldefault('T', t.typowner))),
                  CASE WHEN t.typtype = 'e' THEN ' labels ' ||
                       (SELECT string_agg(quote_literal(enumlabel), ', ' ORDER BY enumsortorder)
                          FROM pg_enum WHERE enumtypid = t.oid) ELSE '' END,
                  CASE WHEN t.typtype = 'd' THEN format(' base %s notnull %s default %s checks %s',
                       format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
                       (SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), '; ' ORDER BY conname)
                          FROM pg_constraint WHERE contypid = t.oid)) ELSE '' END,
                  CASE WHEN t.typtype = 'c' THEN ' attributes ' ||
                       (SELECT string_agg(quote_ident(attname) || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
                          FROM pg_attribute WHERE attrelid = t.typrelid AND attnum > 0 AND NOT attisdropped)
                       ELSE '' END)
      FROM members m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
)
SELECT line FROM listing ORDER BY key, line;
