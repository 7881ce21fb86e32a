/**
 * Watches the files a reload reads (HUB_CONFIG_FILE, `HUB_AUTH_*_FILE`) and calls back once they
 * have been quiet for the debounce time. A Kubernetes Secret or ConfigMap volume updates by writing
 * a new timestamped directory and swapping the `..data` symlink: the file's own path never sees an
 * event, so the directory is watched, and an event on the file's name or on a `..`-prefixed entry
 * (the atomic writer's) counts. An editor's write-and-rename shows up on the directory the same way.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../log.js';

export class FileWatcher {
  /** Directory → the watcher on it and the file names in it that count. */
  private readonly watched = new Map<string, { readonly watcher: FSWatcher; names: ReadonlySet<string> }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly debounceMs: number,
    private readonly onChange: () => void,
    private readonly log: Logger,
  ) {}

  /** Watch exactly `paths` from now on (a reload may name other files). */
  watch(paths: readonly string[]): void {
    const byDir = new Map<string, Set<string>>();
    for (const path of paths) {
      const full = resolve(path);
      const names = byDir.get(dirname(full)) ?? new Set<string>();
      names.add(basename(full));
      byDir.set(dirname(full), names);
    }
    for (const [dir, entry] of this.watched) {
      if (byDir.has(dir)) continue;
      entry.watcher.close();
      this.watched.delete(dir);
    }
    for (const [dir, names] of byDir) {
      const entry = this.watched.get(dir);
      if (entry) {
        entry.names = names;
        continue;
      }
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => this.seen(dir, name));
        watcher.on('error', (err) => this.log.warn({ err, dir }, 'watching for key and config file changes stopped; SIGHUP still reloads'));
        this.watched.set(dir, { watcher, names });
      } catch (err) {
        this.log.warn({ err, dir }, 'cannot watch this directory for key and config file changes; SIGHUP still reloads');
      }
    }
  }

  close(): void {
    clearTimeout(this.timer);
    for (const { watcher } of this.watched.values()) watcher.close();
    this.watched.clear();
  }

  private seen(dir: string, name: string | Buffer | null): void {
    const file = name === null ? undefined : String(name);
    const names = this.watched.get(dir)?.names;
    if (file !== undefined && !file.startsWith('..') && !names?.has(file)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onChange(), this.debounceMs);
    this.timer.unref();
  }
}
