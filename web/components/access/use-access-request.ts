'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import type { AccessRequest } from '../../lib/api-client';
import { isFinal, pollUntil } from '../../lib/access';
import { toShownError, usePortal, type ShownError } from '../portal-provider';

/** State and actions of one access request page. */
export interface RequestState {
  request: AccessRequest | undefined;
  error: ShownError | undefined;
  /** True while re-reading in the background (the workflow moves asynchronously). */
  refreshing: boolean;
  reload(): void;
  /** Re-reads until `done` holds or a few seconds pass; resolves with the last value read. */
  refreshUntil(done: (r: AccessRequest) => boolean): Promise<AccessRequest | undefined>;
}

/**
 * Loads a request and, right after load, re-reads briefly while the workflow has not yet opened
 * a step (just submitted or just decided): the next step opens a few hundred ms later.
 */
export function useAccessRequest(requestId: string): RequestState {
  const { api } = usePortal();
  const [request, setRequest] = useState<AccessRequest | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const [refreshing, setRefreshing] = useState(false);
  const alive = useRef(true);

  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  const refreshUntil = useCallback(
    async (done: (r: AccessRequest) => boolean) => {
      setRefreshing(true);
      try {
        const last = await pollUntil(
          async () => {
            const r = await api.accessRequest(requestId);
            if (alive.current) setRequest(r);
            return r;
          },
          (r) => !alive.current || done(r),
          { attempts: 25, intervalMs: 400 },
        );
        return last;
      } catch (err) {
        if (alive.current) setError(toShownError(err));
        return undefined;
      } finally {
        if (alive.current) setRefreshing(false);
      }
    },
    [api, requestId],
  );

  const reload = useCallback(() => {
    setError(undefined);
    // A request between steps (no pending step, not final) is re-read until a step opens.
    void refreshUntil((r) => Boolean(r.pending) || isFinal(r.status));
  }, [refreshUntil]);

  useEffect(() => {
    if (requestId) reload();
  }, [requestId, reload]);

  return { request, error, refreshing, reload, refreshUntil };
}
