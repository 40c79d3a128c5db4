/** How much each retriever counts in the fusion, per tenant. */
export interface FusionWeights {
  keyword: number;
  vector: number;
}

export const EQUAL_WEIGHTS: FusionWeights = { keyword: 1, vector: 1 };

/**
 * Where a tenant's fusion weights come from. The default gives every tenant the same (configured)
 * weights; a tenant-specific source (a settings field, a table) plugs in here.
 */
export abstract class SearchWeights {
  abstract forTenant(tenantId: string): Promise<FusionWeights>;
}

export class FixedSearchWeights extends SearchWeights {
  constructor(
    private readonly defaults: FusionWeights = EQUAL_WEIGHTS,
    private readonly byTenant: ReadonlyMap<string, FusionWeights> = new Map(),
  ) {
    super();
  }

  forTenant(tenantId: string): Promise<FusionWeights> {
    return Promise.resolve(this.byTenant.get(tenantId) ?? this.defaults);
  }
}
