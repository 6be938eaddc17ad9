/*
 * The DevRev REST calls the snap-in makes, through @devrev/typescript-sdk. Every failure becomes a
 * `DevRevError` that names the endpoint and DevRev's answer (status, type, message).
 */

import axios from 'axios';
import { betaSDK, client, publicSDK } from '@devrev/typescript-sdk';

import type { WorkLike } from './mapping';

export class DevRevError extends Error {
  constructor(message: string, readonly endpoint: string, readonly status?: number) {
    super(message);
  }
}

const LOOKUP_LIMIT = 50;

async function call<T>(endpoint: string, request: () => Promise<{ data: T }>): Promise<T> {
  try {
    return (await request()).data;
  } catch (e) {
    if (axios.isAxiosError(e) && e.response) {
      const data = e.response.data as { type?: string; message?: string } | undefined;
      const why = [data?.type, data?.message].filter(Boolean).join(': ');
      throw new DevRevError(`DevRev ${endpoint} answered ${e.response.status}${why ? ` (${why})` : ''}`,
        endpoint, e.response.status);
    }
    const code = axios.isAxiosError(e) ? e.code ?? e.message : String(e);
    throw new DevRevError(`DevRev ${endpoint} failed: ${code}`, endpoint);
  }
}

export class DevRev {
  private readonly api: publicSDK.Api<unknown>;
  private readonly beta: betaSDK.Api<unknown>;
  private readonly tagCache = new Map<string, string>();

  constructor(endpoint: string, token: string) {
    this.api = client.setup({ endpoint, token });
    this.beta = client.setupBeta({ endpoint, token });
  }

  /** The ticket works carrying these external refs, by ref. */
  async ticketsByExternalRef(refs: string[]): Promise<Map<string, WorkLike>> {
    const found = new Map<string, WorkLike>();
    for (let i = 0; i < refs.length; i += LOOKUP_LIMIT) {
      const chunk = refs.slice(i, i + LOOKUP_LIMIT);
      let cursor: string | undefined;
      do {
        const page = await call('works.list', () => this.api.worksList({
          type: [publicSDK.WorkType.Ticket], external_ref: chunk, limit: LOOKUP_LIMIT, cursor,
        }));
        for (const work of page.works as WorkLike[]) {
          if (work.external_ref) found.set(work.external_ref, work);
        }
        cursor = page.next_cursor || undefined;
      } while (cursor);
    }
    return found;
  }

  async createWork(body: publicSDK.WorksCreateRequest): Promise<WorkLike> {
    return (await call('works.create', () => this.api.worksCreate(body))).work as WorkLike;
  }

  async updateWork(body: publicSDK.WorksUpdateRequest): Promise<WorkLike> {
    return (await call('works.update', () => this.api.worksUpdate(body))).work as WorkLike;
  }

  /** Tag ids by name; a missing tag is created. */
  async tagIds(names: string[]): Promise<Map<string, string>> {
    const missing = [...new Set(names)].filter((n) => !this.tagCache.has(n));
    if (missing.length) await this.lookUpTags(missing);
    for (const name of missing.filter((n) => !this.tagCache.has(n))) {
      try {
        const { tag } = await call('tags.create', () => this.api.tagsCreate({
          name, description: 'Set by the Sift snap-in on the tickets it mirrors.',
        }));
        this.tagCache.set(tag.name, tag.id);
      } catch (e) {
        await this.lookUpTags([name]); // made meanwhile by another run, or created before the answer was lost
        if (!this.tagCache.has(name)) throw e;
      }
    }
    return new Map(names.map((n) => [n, this.tagCache.get(n) as string]));
  }

  private async lookUpTags(names: string[]): Promise<void> {
    for (let i = 0; i < names.length; i += LOOKUP_LIMIT) {
      const chunk = names.slice(i, i + LOOKUP_LIMIT);
      let cursor: string | undefined;
      do {
        const page = await call('tags.list', () => this.api.tagsList({ name: chunk, limit: LOOKUP_LIMIT, cursor }));
        for (const tag of page.tags) this.tagCache.set(tag.name, tag.id);
        cursor = page.next_cursor || undefined;
      } while (cursor);
    }
  }

  /** An internal comment on an object's timeline (the answer to a command). */
  async comment(object: string, body: string): Promise<void> {
    await call('timeline-entries.create', () => this.api.timelineEntriesCreate({
      type: publicSDK.TimelineEntriesCreateRequestType.TimelineComment,
      object,
      body,
      body_type: publicSDK.TimelineCommentBodyType.Text,
      visibility: publicSDK.TimelineEntryVisibility.Internal,
    }));
  }

  /** Save the snap-in's inputs (all of them: the snap-in's state lives in hidden inputs). */
  async saveInputs(snapInId: string, values: Record<string, unknown>): Promise<void> {
    await call('snap-ins.update', () => this.beta.snapInsUpdate({ id: snapInId, inputs_values: values }));
  }
}
