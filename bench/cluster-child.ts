// One variant of the cluster-scrape benchmark in a process of its own (its own heap, so that the
// other variant's data never adds to its garbage collections): `setup`, then one `scrape` a round.
import { clusterChild, type ClusterRound, type ClusterVariant } from './cluster';
import { serve } from './rpc';

let scrape: (() => Promise<ClusterRound>) | undefined;

serve({
  setup: (payload) => {
    const { variant, labelSets } = payload as { variant: ClusterVariant; labelSets: number };
    scrape = clusterChild(variant, labelSets);
    return true;
  },
  scrape: () => {
    if (!scrape) throw new Error('setup first');
    return scrape();
  },
});
