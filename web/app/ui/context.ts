// The one hook through which components reach the store and the controls.

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

import type { ClusterController } from '../cluster/controller.js';

export const ClusterContext = createContext<ClusterController | undefined>(undefined);

export function useCluster(): ClusterController {
  const c = useContext(ClusterContext);
  if (c === undefined) throw new Error('useCluster outside ClusterContext');
  return c;
}
