/**
 * The planner's library cache: one open handle per library URI, and per library version its info,
 * its rows (when small enough to hold) and memoised k-NN results. A new library version (another
 * process added an adapter) refreshes the rows; `invalidate` forgets them.
 */
import { openLibrary, type Library, type LibraryInfo, type SearchOptions } from '../library/library';
import { requireOwnEntries } from '../library/libraryFolder';
import { sha256Prototype } from '../prototype/contentHash';
import type { Recipe } from '../recipe/parse';
import type { AdapterRecord } from '../types';

export interface CachedLibrary {
  library: Library;
  version: number;
  info: LibraryInfo;
  /** Every row, for libraries of at most SMALL_LIBRARY adapters. */
  adapters?: AdapterRecord[];
  searches: Map<string, { record: AdapterRecord; distance: number }[]>;
}

/** Up to this many adapters, the planner holds the whole table (names for completion, did-you-mean). */
export const SMALL_LIBRARY = 5000;

export class LibraryCache {
  private libraries = new Map<string, Promise<Library>>();
  private adapterLists = new Map<string, CachedLibrary>();

  /** Forget the rows of one library (changed on disk), or of all. */
  invalidate(libraryUri?: string): void {
    if (libraryUri) this.adapterLists.delete(libraryUri);
    else this.adapterLists.clear();
  }

  async dispose(): Promise<void> {
    const libraries = [...this.libraries.values()];
    this.libraries.clear();
    for (const l of libraries) await l.then((x) => x.close()).catch(() => undefined);
  }

  async open(uri: string): Promise<CachedLibrary> {
    let opening = this.libraries.get(uri);
    if (!opening) {
      opening = openLibrary(uri);
      this.libraries.set(uri, opening);
      opening.catch(() => this.libraries.delete(uri));
    }
    const library = await opening;
    const version = await library.version();
    const cached = this.adapterLists.get(uri);
    if (cached && cached.version === version) return cached;
    // a new version (a pull, another writer) brings new files: checked as at open (libraryFolder.ts)
    if (cached && library.folder) requireOwnEntries(library.folder, 'the library');
    // without the index's row counts: the plan does not show them, and LanceDB loads the index to count
    const info = await library.info({ indexStats: false });
    // A small library is held whole (completion lists every name); a large one is only queried.
    const adapters = info.size <= SMALL_LIBRARY ? await library.list() : undefined;
    const fresh: CachedLibrary = { library, version, info, adapters, searches: new Map() };
    this.adapterLists.set(uri, fresh);
    return fresh;
  }

  /** The rows of the adapters the recipe names (exclude, adapters, manual). */
  async namedRecords(cached: CachedLibrary, recipe: Recipe): Promise<AdapterRecord[]> {
    const spec = recipe.spec;
    const names = [...spec.retrieve.exclude, ...(spec.retrieve.adapters ?? []), ...Object.keys(spec.weights.manual ?? {})].filter((n): n is string => typeof n === 'string');
    if (cached.adapters) {
      const wanted = new Set(names);
      return cached.adapters.filter((a) => wanted.has(a.name));
    }
    return names.length > 0 ? cached.library.getMany(names) : [];
  }

  /** k-NN, memoised per library version: while a user edits weights, the target and filters stay put. */
  async search(cached: CachedLibrary, target: Float64Array, options: SearchOptions): Promise<{ record: AdapterRecord; distance: number }[]> {
    const key = JSON.stringify([sha256Prototype(target), options.k, options.base, options.where ?? null, [...(options.exclude ?? [])].sort()]);
    const hit = cached.searches.get(key);
    if (hit) return hit;
    const hits = await cached.library.search(target, options);
    if (cached.searches.size >= 32) cached.searches.delete(cached.searches.keys().next().value!);
    cached.searches.set(key, hits);
    return hits;
  }
}
