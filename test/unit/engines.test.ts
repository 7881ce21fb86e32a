/**
 * package.json `engines.node` is what the project supports: the Node running this suite must be in it
 * (CI runs the suite on two Nodes and requires each run's [node<major>] test), and every locked
 * dependency must support the lowest release of each Node line it names, so no dependency upgrade
 * quietly drops a line the project still claims.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { caretFloors, satisfies } from '../helpers/semver-range.js';

interface Manifest {
  readonly engines?: { readonly node?: string };
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')) as T;
const ENGINES = readJson<Manifest>('package.json').engines?.node ?? '';
const lock = readJson<{ packages: Record<string, Manifest> }>('package-lock.json');
// Every locked package, other platforms' optional binaries included: the lockfile is the same everywhere.
const dependencyEngines = Object.entries(lock.packages)
  .filter(([path, manifest]) => path !== '' && manifest.engines?.node !== undefined)
  .map(([path, manifest]) => ({ name: path.replace(/^.*node_modules\//, ''), range: manifest.engines!.node! }));
const NODE = process.versions.node;
const MAJOR = NODE.split('.')[0]!;

describe('Node versions', () => {
  it(`runs on Node ${NODE}, which package.json engines supports [node${MAJOR}]`, () => {
    expect(ENGINES).not.toBe('');
    expect(satisfies(NODE, ENGINES), `engines.node is "${ENGINES}"`).toBe(true);
    const refusing = dependencyEngines.filter((dep) => !satisfies(NODE, dep.range)).map((dep) => `${dep.name} (${dep.range})`);
    expect(refusing, `dependencies whose engines refuse Node ${NODE}`).toEqual([]);
  });

  it('every locked dependency supports the lowest release of each Node line engines names', () => {
    const floors = caretFloors(ENGINES).map((v) => v.join('.'));
    expect(floors.length).toBeGreaterThanOrEqual(2);
    expect(dependencyEngines.length).toBeGreaterThan(10);
    const refusing = floors.flatMap((floor) => dependencyEngines.filter((dep) => !satisfies(floor, dep.range)).map((dep) => `${dep.name} (${dep.range}) refuses ${floor}`));
    expect(refusing).toEqual([]);
  });

  it('reads engines ranges the way npm does', () => {
    const ours = '^20.19.0 || ^22.13.0 || ^24.0.0';
    for (const v of ['20.19.0', '20.20.2', '22.13.0', '24.0.0', '24.22.3', 'v24.1.0']) expect(satisfies(v, ours), v).toBe(true);
    for (const v of ['18.20.0', '20.18.3', '21.7.3', '22.12.0', '23.11.0', '25.0.0', '26.1.0']) expect(satisfies(v, ours), v).toBe(false);
    const cases: [range: string, inside: string[], outside: string[]][] = [
      ['>= 10.x', ['10.0.0', '26.0.0'], ['9.11.2']],
      ['>=14.17', ['14.17.0'], ['14.16.9']],
      ['^20.0.0 || ^22.0.0 || >=24.0.0', ['22.1.0', '24.0.0'], ['21.0.0', '23.9.9']],
      ['^10 || ^12 || >=14', ['12.22.0', '14.0.0'], ['11.0.0', '13.14.0']],
      ['~8.16.0', ['8.16.9'], ['8.17.0']],
      ['>12 <14.2', ['13.0.0', '14.1.9'], ['12.22.0', '14.2.0']],
      ['<=20.19', ['20.19.9'], ['20.20.0']],
      ['^0.2.3', ['0.2.9'], ['0.3.0']],
      ['20.x', ['20.0.0', '20.99.0'], ['21.0.0']],
      ['*', ['0.0.1', '24.0.0'], []],
    ];
    for (const [range, inside, outside] of cases) {
      for (const v of inside) expect(satisfies(v, range), `${v} in ${range}`).toBe(true);
      for (const v of outside) expect(satisfies(v, range), `${v} not in ${range}`).toBe(false);
    }
    expect(() => satisfies('20.0.0', '18 - 20')).toThrow(/cannot read "-"/);
    expect(() => caretFloors('>=20')).toThrow(/\^MAJOR/);
    expect(caretFloors(ours)).toEqual([
      [20, 19, 0],
      [22, 13, 0],
      [24, 0, 0],
    ]);
  });
});
