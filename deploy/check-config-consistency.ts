/**
 * Checks that docker-compose.yml and k8s/ give every process exactly the environment its config
 * schema reads: each required key (one without a default) is set, no key the schema does not
 * know is set, and every value that can be known from the files parses. It also checks the
 * wiring the services rely on: HTTP_HOST, ports, health probes, depends_on, the Ingress and the
 * kustomization.
 *   npx ts-node -r tsconfig-paths/register deploy/check-config-consistency.ts
 * Exits 1 with the list of problems, 0 when everything matches.
 *
 * The schemas are the services' own (services/<name>/src/<name>.config.ts exports
 * <Name>ConfigSchema), loaded at run time, so a key added to a schema is checked at once.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';
import { z } from 'zod';

const ROOT = resolve(__dirname, '..');
const COMPOSE_FILE = 'docker-compose.yml';
const K8S_DIR = 'k8s';
/** Read by the image's entry script, not by the code: picks the process when no argument is given. */
const IMAGE_KEYS = new Set(['SERVICE']);
/** In a container the services must bind every interface, or neither probes nor peers reach them. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);
/** Stands in for values that exist only at deploy time (compose ${VARIABLES}). */
const PLACEHOLDER = 'placeholder';

/** What a process reads from its environment. */
interface ConfigReader {
  name: string;
  keys: string[];
  required: Set<string>;
  /** Parses an environment; absent when the schema itself cannot be loaded. */
  validate?: (env: Record<string, string>) => Array<{ key: string; message: string }>;
  /** The key that sets the HTTP port (GATEWAY_PORT, ...) and its default; services only. */
  port?: { key: string; fallback: number };
}

/** Key -> value; undefined when the key is set but its value is not in the files. */
type Env = Map<string, string | undefined>;

const problems = new Map<string, string[]>();
function report(where: string, problem: string): void {
  problems.set(where, [...(problems.get(where) ?? []), problem]);
}

// ---- the schemas ----------------------------------------------------------------------------

function isRequired(field: z.ZodType): boolean {
  return !field.safeParse(undefined).success;
}

function issuesOf(schema: z.ZodType, env: Record<string, string>): Array<{ key: string; message: string }> {
  const result = schema.safeParse(env);
  if (result.success) return [];
  return result.error.issues.map((issue) => ({ key: String(issue.path[0] ?? ''), message: issue.message }));
}

async function loadServices(): Promise<ConfigReader[]> {
  const readers: ConfigReader[] = [];
  for (const name of readdirSync(join(ROOT, 'services')).sort()) {
    const where = `services/${name}`;
    const file = join(ROOT, 'services', name, 'src', `${name}.config.ts`);
    if (!existsSync(file)) {
      report(where, `no src/${name}.config.ts`);
      continue;
    }
    const exportName = `${name.charAt(0).toUpperCase()}${name.slice(1)}ConfigSchema`;
    const schema = ((await import(file)) as Record<string, unknown>)[exportName];
    if (!(schema instanceof z.ZodObject)) {
      report(where, `${name}.config.ts exports no zod object named ${exportName}`);
      continue;
    }
    const shape = schema.shape as Record<string, z.ZodType>;
    const keys = Object.keys(shape);
    const portKey = `${name.toUpperCase()}_PORT`;
    const portDefault = shape[portKey]?.safeParse(undefined);
    if (!portDefault?.success || typeof portDefault.data !== 'number') {
      report(where, `schema has no ${portKey} with a numeric default`);
    }
    readers.push({
      name,
      keys,
      required: new Set(keys.filter((key) => isRequired(shape[key]!))),
      validate: (env) => issuesOf(schema, env),
      port:
        portDefault?.success && typeof portDefault.data === 'number'
          ? { key: portKey, fallback: portDefault.data }
          : undefined,
    });
  }
  return readers;
}

/** init's schema lives beside its CLI (libs/platform/src/cli/init.config.ts), free of side effects. */
async function loadInit(): Promise<ConfigReader> {
  const { InitConfigSchema } = (await import(join(ROOT, 'libs/platform/src/cli/init.config.ts'))) as {
    InitConfigSchema: z.ZodObject<Record<string, z.ZodType>>;
  };
  const shape = InitConfigSchema.shape;
  const keys = Object.keys(shape);
  return {
    name: 'init',
    keys,
    required: new Set(keys.filter((key) => isRequired(shape[key]!))),
    validate: (env) => issuesOf(InitConfigSchema, env),
  };
}

// ---- one process's environment ----------------------------------------------------------------

function checkEnv(where: string, reader: ConfigReader, env: Env): void {
  for (const key of reader.required) {
    if (!env.has(key)) report(where, `required ${key} is not set`);
  }
  for (const key of env.keys()) {
    if (!reader.keys.includes(key) && !IMAGE_KEYS.has(key))
      report(where, `${key} is set, but ${reader.name} does not read it`);
  }
  const values = Object.fromEntries(
    [...env].filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  for (const { key, message } of reader.validate?.(values) ?? []) {
    // Unset keys were reported above if required; deploy-time values cannot be judged here.
    if (key in values) report(where, `${key}=${JSON.stringify(values[key])}: ${message}`);
  }
  if (reader.port) {
    const host = env.get('HTTP_HOST');
    if (host === undefined || !WILDCARD_HOSTS.has(host)) {
      report(
        where,
        `HTTP_HOST must be 0.0.0.0 in a container (it is ${host ?? 'unset, so the service binds 127.0.0.1'})`,
      );
    }
  }
}

function effectivePort(reader: ConfigReader, env: Env): number | undefined {
  if (!reader.port) return undefined;
  const value = env.get(reader.port.key);
  return value === undefined ? reader.port.fallback : Number(value);
}

// ---- YAML helpers -----------------------------------------------------------------------------

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown): Json {
  return isRecord(value) ? value : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function words(value: unknown): Array<string | undefined> {
  return typeof value === 'string' ? value.trim().split(/\s+/) : list(value).map(scalar);
}

// ---- docker-compose.yml ------------------------------------------------------------------------

/** Compose interpolation with nothing set: ${A:-x} gives x, any other reference a placeholder. */
function interpolate(value: string): string {
  // `$$` is a literal dollar: substitute only between them.
  return value
    .split('$$')
    .map((part) =>
      part
        .replace(
          /\$\{[A-Za-z_][A-Za-z0-9_]*(?:(:?-)([^}]*)|:?\?[^}]*)?\}/g,
          (_all, dash?: string, fallback?: string) => (dash === undefined ? PLACEHOLDER : (fallback ?? '')),
        )
        .replace(/\$[A-Za-z_][A-Za-z0-9_]*/g, PLACEHOLDER),
    )
    .join('$');
}

function composeEnv(where: string, service: Json): Env {
  const env: Env = new Map();
  if (service.env_file !== undefined)
    report(where, 'env_file is not supported by this check: list the keys under environment');
  if (Array.isArray(service.environment)) {
    for (const entry of service.environment) {
      const text = scalar(entry) ?? '';
      const at = text.indexOf('=');
      if (at < 0) env.set(text, undefined);
      else env.set(text.slice(0, at), interpolate(text.slice(at + 1)));
    }
  } else {
    for (const [key, value] of Object.entries(record(service.environment))) {
      const text = scalar(value);
      env.set(key, text === undefined ? undefined : interpolate(text));
    }
  }
  return env;
}

const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);

function checkCompose(readers: Map<string, ConfigReader>): void {
  const document = parseDocument(readFileSync(join(ROOT, COMPOSE_FILE), 'utf8'), { merge: true });
  for (const error of document.errors) report(COMPOSE_FILE, `YAML: ${error.message}`);
  const compose = record(document.toJS({ maxAliasCount: 1000 }));
  const services = record(compose.services);
  const volumes = record(compose.volumes);
  if (Object.keys(services).length === 0) report(COMPOSE_FILE, 'no services');
  const seen = new Set<string>();

  for (const [name, value] of Object.entries(services)) {
    const where = `${COMPOSE_FILE} services.${name}`;
    const service = record(value);
    const env = composeEnv(where, service);

    // Structure, for every service.
    if (typeof service.image !== 'string' && service.build === undefined)
      report(where, 'has neither image nor build');
    for (const [dependency, spec] of Object.entries(record(service.depends_on))) {
      const condition = scalar(record(spec).condition);
      if (!(dependency in services)) report(where, `depends_on ${dependency}, which is not a service`);
      else if (condition === 'service_healthy' && !isRecord(record(services[dependency]).healthcheck)) {
        report(where, `waits for ${dependency} to be healthy, but ${dependency} has no healthcheck`);
      }
      if (condition !== undefined && !CONDITIONS.has(condition))
        report(where, `depends_on ${dependency}: unknown condition ${condition}`);
    }
    for (const mount of list(service.volumes)) {
      const source = typeof mount === 'string' ? mount.split(':')[0] : scalar(record(mount).source);
      if (source && !/^[./~$]/.test(source) && !(source in volumes))
        report(where, `volume ${source} is not declared under volumes`);
    }
    if (service.ports !== undefined && name !== 'gateway')
      report(where, 'publishes a port; only the gateway is published');

    // The environment, for the services that run the conversation engine's image.
    const selected = words(service.command)[0] ?? env.get('SERVICE');
    const reader = selected === undefined ? undefined : readers.get(selected);
    if (reader === undefined) {
      if (readers.has(name)) report(where, `runs ${selected ?? 'nothing'}; expected command [${name}]`);
      continue;
    }
    seen.add(reader.name);
    checkEnv(where, reader, env);

    const port = effectivePort(reader, env);
    if (port === undefined) continue;
    const test = words(record(service.healthcheck).test);
    if (!test.includes(String(port)) || !test.includes('/readyz')) {
      report(where, `healthcheck should probe /readyz on port ${port} (is: ${test.join(' ') || 'none'})`);
    }
    for (const published of list(service.ports)) {
      const target =
        typeof published === 'string' ? published.split(':').pop() : scalar(record(published).target);
      if (target !== String(port))
        report(where, `publishes container port ${target ?? '?'}, but the service listens on ${port}`);
    }
    if (scalar(record(record(service.depends_on).init).condition) !== 'service_completed_successfully') {
      report(where, 'does not wait for init (depends_on init: condition: service_completed_successfully)');
    }
  }
  for (const name of readers.keys()) {
    if (!seen.has(name)) report(COMPOSE_FILE, `no service runs ${name}`);
  }
}

// ---- k8s/ --------------------------------------------------------------------------------------

interface Manifest {
  file: string;
  kind: string;
  name: string;
  body: Json;
}

function loadManifests(): Manifest[] {
  const manifests: Manifest[] = [];
  const files = readdirSync(join(ROOT, K8S_DIR)).filter((entry) => /\.ya?ml$/.test(entry));
  for (const file of files.sort()) {
    for (const document of parseAllDocuments(readFileSync(join(ROOT, K8S_DIR, file), 'utf8'))) {
      for (const error of document.errors) report(`${K8S_DIR}/${file}`, `YAML: ${error.message}`);
      const body = record(document.toJS());
      if (Object.keys(body).length === 0) continue;
      manifests.push({
        file,
        kind: scalar(body.kind) ?? '?',
        name: scalar(record(body.metadata).name) ?? '?',
        body,
      });
    }
  }
  return manifests;
}

function podTemplate(manifest: Manifest): Json | undefined {
  const spec = record(manifest.body.spec);
  switch (manifest.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
      return record(spec.template);
    case 'CronJob':
      return record(record(record(spec.jobTemplate).spec).template);
    default:
      return undefined;
  }
}

function envVar(container: Json, key: string): Json {
  return record(list(container.env).find((entry) => record(entry).name === key));
}

function checkK8s(readers: Map<string, ConfigReader>): void {
  const manifests = loadManifests();
  const sources = new Map<string, Map<string, string>>(); // "ConfigMap/name" -> key -> value
  for (const manifest of manifests) {
    if (manifest.kind === 'ConfigMap' || manifest.kind === 'Secret') {
      const data = { ...record(manifest.body.data), ...record(manifest.body.stringData) };
      sources.set(
        `${manifest.kind}/${manifest.name}`,
        new Map(Object.entries(data).map(([key, value]) => [key, scalar(value) ?? ''])),
      );
    }
  }
  const read = new Set<string>(); // "ConfigMap/name/key" read by some container
  const seen = new Set<string>();

  function keyRef(where: string, kind: 'ConfigMap' | 'Secret', ref: Json): string | undefined {
    const name = scalar(ref.name) ?? '?';
    const key = scalar(ref.key) ?? '?';
    read.add(`${kind}/${name}/${key}`);
    const value = sources.get(`${kind}/${name}`)?.get(key);
    if (value === undefined && ref.optional !== true) report(where, `${kind} ${name} has no key ${key}`);
    return value;
  }

  for (const manifest of manifests) {
    const template = podTemplate(manifest);
    if (!template) continue;
    for (const container of list(record(template.spec).containers).map(record)) {
      const where = `${K8S_DIR}/${manifest.file} ${manifest.kind}/${manifest.name} container ${scalar(container.name) ?? '?'}`;
      const env: Env = new Map();
      for (const from of list(container.envFrom).map(record)) {
        for (const [kind, field] of [
          ['ConfigMap', 'configMapRef'],
          ['Secret', 'secretRef'],
        ] as const) {
          const ref = record(from[field]);
          const name = scalar(ref.name);
          if (name === undefined) continue;
          const values = sources.get(`${kind}/${name}`);
          if (!values && ref.optional !== true)
            report(where, `envFrom ${kind} ${name}, which is not in ${K8S_DIR}/`);
          for (const [key, value] of values ?? []) {
            read.add(`${kind}/${name}/${key}`);
            env.set(`${scalar(from.prefix) ?? ''}${key}`, value);
          }
        }
      }
      const listed = new Set<string>();
      for (const variable of list(container.env).map(record)) {
        const key = scalar(variable.name) ?? '?';
        if (listed.has(key)) report(where, `${key} is listed twice under env`);
        listed.add(key);
        const from = record(variable.valueFrom);
        if ('value' in variable) env.set(key, scalar(variable.value) ?? '');
        else if (isRecord(from.configMapKeyRef))
          env.set(key, keyRef(where, 'ConfigMap', from.configMapKeyRef));
        else if (isRecord(from.secretKeyRef)) env.set(key, keyRef(where, 'Secret', from.secretKeyRef));
        else if (isRecord(from.fieldRef) && scalar(from.fieldRef.fieldPath) === 'metadata.name')
          env.set(key, `${manifest.name}-7d9c8b6f5-x2x7q`);
        else env.set(key, undefined);
      }

      const selected = words(container.args)[0] ?? env.get('SERVICE');
      const reader = selected === undefined ? undefined : readers.get(selected);
      if (reader === undefined) {
        report(where, `runs ${selected ?? 'nothing'}; expected args [${[...readers.keys()].join('|')}]`);
        continue;
      }
      seen.add(reader.name);
      checkEnv(where, reader, env);

      const port = effectivePort(reader, env);
      if (port === undefined) continue;
      const http = list(container.ports)
        .map(record)
        .find((entry) => scalar(entry.containerPort) === String(port));
      if (!http) report(where, `has no containerPort ${port} (set by ${reader.port?.key ?? '?'})`);
      const targets = new Set([String(port), scalar(http?.name) ?? String(port)]);
      for (const [probe, path] of [
        ['livenessProbe', '/healthz'],
        ['readinessProbe', '/readyz'],
      ] as const) {
        const get = record(record(container[probe]).httpGet);
        const target = scalar(get.port);
        if (scalar(get.path) !== path || target === undefined || !targets.has(target))
          report(where, `${probe} should GET ${path} on port ${port}`);
      }
      if (!isRecord(record(container.resources).requests)) report(where, 'has no resource requests');
      if (
        reader.name === 'gateway' &&
        scalar(record(record(envVar(container, 'GATEWAY_INSTANCE_ID').valueFrom).fieldRef).fieldPath) !==
          'metadata.name'
      ) {
        report(
          where,
          'GATEWAY_INSTANCE_ID should come from the pod name (valueFrom.fieldRef.fieldPath: metadata.name)',
        );
      }
    }
  }
  for (const name of readers.keys()) {
    if (!seen.has(name)) report(K8S_DIR, `no workload runs ${name}`);
  }
  for (const [source, values] of sources) {
    for (const key of values.keys()) {
      if (!read.has(`${source}/${key}`)) report(K8S_DIR, `${source} key ${key} is read by no container`);
    }
  }

  // Services select pods and ports that exist; the Ingress reaches the gateway's WebSocket.
  const workloads = manifests.filter(
    (manifest) => manifest.kind !== 'Job' && podTemplate(manifest) !== undefined,
  );
  for (const service of manifests.filter((manifest) => manifest.kind === 'Service')) {
    const where = `${K8S_DIR}/${service.file} Service/${service.name}`;
    const selector = Object.entries(record(record(service.body.spec).selector));
    const target = workloads.find((workload) => {
      const labels = record(record(podTemplate(workload)?.metadata).labels);
      return selector.length > 0 && selector.every(([key, value]) => labels[key] === value);
    });
    if (!target) {
      report(where, 'selects no workload');
      continue;
    }
    const containerPorts = list(record(podTemplate(target)?.spec).containers).flatMap((container) =>
      list(record(container).ports).map(record),
    );
    for (const port of list(record(service.body.spec).ports).map(record)) {
      const wanted = scalar(port.targetPort) ?? scalar(port.port);
      if (
        !containerPorts.some(
          (entry) => scalar(entry.name) === wanted || scalar(entry.containerPort) === wanted,
        )
      ) {
        report(where, `targetPort ${wanted ?? '?'} is not a port of ${target.kind}/${target.name}`);
      }
    }
  }
  const paths = manifests
    .filter((manifest) => manifest.kind === 'Ingress')
    .flatMap((ingress) =>
      list(record(ingress.body.spec).rules).flatMap((rule) =>
        list(record(record(rule).http).paths).map(record),
      ),
    );
  const websocket = paths.find((path) => scalar(path.path) === '/v1/ws');
  if (scalar(record(record(websocket?.backend).service).name) !== 'gateway')
    report(K8S_DIR, 'no Ingress path /v1/ws to the gateway Service');

  // Every manifest is in the kustomization, except Secrets (never committed for real).
  const kustomization = manifests.find((manifest) => manifest.kind === 'Kustomization');
  if (!kustomization) {
    report(K8S_DIR, 'no kustomization.yaml');
    return;
  }
  const resources = new Set(list(kustomization.body.resources).map((entry) => scalar(entry) ?? ''));
  for (const resource of resources) {
    if (!existsSync(join(ROOT, K8S_DIR, resource)))
      report(`${K8S_DIR}/${kustomization.file}`, `resource ${resource} does not exist`);
  }
  const unlisted = manifests.filter(
    (manifest) => !['Kustomization', 'Secret'].includes(manifest.kind) && !resources.has(manifest.file),
  );
  for (const file of new Set(unlisted.map((manifest) => manifest.file))) {
    report(`${K8S_DIR}/${kustomization.file}`, `${file} is not listed under resources`);
  }
}

// ---- main --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const readers = new Map<string, ConfigReader>();
  for (const reader of [...(await loadServices()), await loadInit()]) readers.set(reader.name, reader);

  checkCompose(readers);
  checkK8s(readers);

  if (problems.size > 0) {
    const count = [...problems.values()].reduce((total, entries) => total + entries.length, 0);
    process.stderr.write(`config consistency: ${count} problem(s)\n`);
    for (const [where, entries] of problems) {
      process.stderr.write(`\n${where}\n${entries.map((entry) => `  - ${entry}`).join('\n')}\n`);
    }
    process.exit(1);
  }
  const summary = [...readers.values()].map(
    (reader) => `${reader.name} (${reader.required.size} required of ${reader.keys.length} keys)`,
  );
  process.stdout.write(
    `config consistency: ok. ${COMPOSE_FILE} and ${K8S_DIR}/ match ${summary.join(', ')}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `check-config-consistency failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(2);
});
