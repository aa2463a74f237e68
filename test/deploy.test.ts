// deploy/: the Dockerfile and the Kubernetes manifests parse, name only the project's own
// image, probe the v2 health routes on the container's port, request the CPUs the server's
// --threads use, and pass only flags `resnode serve` has. kubectl (when installed) renders
// the kustomization offline.
import test from 'ava';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const exec = promisify(execFile);
const K8S = 'deploy/k8s';
const version = (JSON.parse(await readFile('package.json', 'utf8')) as { version: string }).version;
const IMAGE = `resnode:${version}`;

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function manifests(): Promise<{ file: string; doc: Doc }[]> {
  const out: { file: string; doc: Doc }[] = [];
  for (const file of (await readdir(K8S)).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const d of parseAllDocuments(await readFile(join(K8S, file), 'utf8'))) {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
      out.push({ file, doc: d.toJS() as Doc });
    }
  }
  return out;
}

/** Every value of an `image` key anywhere in a document, without recursion on the call stack. */
function images(doc: unknown): string[] {
  const found: string[] = [];
  const stack = [doc];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) stack.push(...v);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'image') found.push(String(x));
        else stack.push(x);
      }
    }
  }
  return found;
}

const flag = (args: string[], name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

const serveHelp = exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--help']).then((r) => r.stdout);

test('the manifests parse and name only the project\'s own image', async (t) => {
  const docs = await manifests();
  t.true(docs.length >= 5);
  const kinds = docs.map((d) => d.doc.kind).sort();
  t.deepEqual(kinds, ['Deployment', 'HorizontalPodAutoscaler', 'InferenceService', 'Kustomization', 'Service']);
  const all = docs.flatMap((d) => images(d.doc).map((image) => ({ file: d.file, image })));
  t.is(all.length, 2, 'the Deployment and the InferenceService each run one container');
  for (const { file, image } of all) t.is(image, IMAGE, file);
});

test('containers: v2 health probes on the serving port, CPUs = --threads, flags that `resnode serve` has', async (t) => {
  const docs = await manifests();
  const help = await serveHelp;
  const deployment = docs.find((d) => d.doc.kind === 'Deployment')!.doc;
  const isvc = docs.find((d) => d.doc.kind === 'InferenceService')!.doc;
  const dockerfile = await readFile('deploy/Dockerfile', 'utf8');
  const entry = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)![1]!) as string[];
  const port = Number(flag(entry, '--port'));
  t.is(port, 8080);
  for (const [name, c] of [['Deployment', deployment.spec.template.spec.containers[0]], ['InferenceService', isvc.spec.predictor.containers[0]]] as const) {
    const args = c.args as string[];
    for (const a of args.filter((x) => x.startsWith('--'))) t.true(help.includes(`${a} `), `${name}: resnode serve has no ${a}`);
    t.is(c.ports[0].containerPort, port, name);
    const portRef = (p: { port: unknown }) => (p.port === c.ports[0].name || p.port === port);
    t.is(c.readinessProbe.httpGet.path, '/v2/health/ready', name);
    t.is(c.livenessProbe.httpGet.path, '/v2/health/live', name);
    t.true(portRef(c.readinessProbe.httpGet) && portRef(c.livenessProbe.httpGet), name);
    const threads = Number(flag(args, '--threads'));
    const workers = Math.max(1, Number(flag(args, '--workers') ?? 0));
    t.is(Number(c.resources.requests.cpu), threads * workers, `${name}: cpu request = --threads × workers`);
    t.is(c.resources.limits.cpu, c.resources.requests.cpu, `${name}: guaranteed CPUs`);
    const mi = (q: string) => Number(/^(\d+)Mi$/.exec(q)![1]) * 2 ** 20;
    const inflight = Number(flag(args, '--max-inflight-bytes') ?? 256 * 2 ** 20);
    t.true(mi(c.resources.limits.memory) > inflight, `${name}: the memory limit holds the body budget`);
  }
  // Drain: the grace period outlasts the request timeout.
  t.true(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000 > Number(flag(deployment.spec.template.spec.containers[0].args, '--timeout-ms')));
  // The Service and the HPA point at the Deployment.
  const service = docs.find((d) => d.doc.kind === 'Service')!.doc;
  t.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
  t.is(service.spec.ports[0].targetPort, deployment.spec.template.spec.containers[0].ports[0].name);
  const hpa = docs.find((d) => d.doc.kind === 'HorizontalPodAutoscaler')!.doc;
  t.like(hpa.spec.scaleTargetRef, { kind: 'Deployment', name: deployment.metadata.name });
  t.true(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
});

test('the Dockerfile: a build stage, then a slim runtime stage with the prebuilt addon and no compiler', async (t) => {
  const text = await readFile('deploy/Dockerfile', 'utf8');
  const stages = [...text.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)].map((m) => ({ base: m[1]!, name: m[2] }));
  t.deepEqual(stages.map((s) => s.name), ['build', 'runtime']);
  t.regex(stages[1]!.base, /^node:\d+-\w+-slim$/);
  const runtime = text.slice(text.indexOf('AS runtime'));
  t.regex(runtime, /COPY --from=build \/app\/build\/Release\/resnode\.node/);
  t.regex(runtime, /COPY --from=build \/app\/dist/);
  t.notRegex(runtime, /apt-get|build-essential|npm (ci|install)/);
  t.regex(runtime, /^USER node$/m);
  t.true(text.includes(`-t ${IMAGE}`), 'the build command in the header tags the image the manifests run');
});

test('kubectl renders the kustomization offline', async (t) => {
  const kubectl = await exec('kubectl', ['version', '--client']).then(() => true, () => false);
  if (!kubectl) {
    t.log('kubectl is not installed; skipped');
    t.pass();
    return;
  }
  const { stdout } = await exec('kubectl', ['kustomize', K8S]);
  const kinds = parseAllDocuments(stdout).map((d) => (d.toJS() as Doc).kind).sort();
  t.deepEqual(kinds, ['Deployment', 'HorizontalPodAutoscaler', 'Service']);
});
