export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** Date (isoformat) */
  Date: { input: string; output: string; }
  /** Date with time (isoformat) */
  DateTime: { input: string; output: string; }
  /** Decimal (fixed-point) */
  Decimal: { input: string; output: string; }
  /** The `JSON` scalar type represents JSON values as specified by [ECMA-404](https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf). */
  JSON: { input: unknown; output: unknown; }
};

/** What happened to an entity in the period. */
export type ChangeKind =
  | 'ADDED'
  | 'CHANGED'
  | 'RETIRED';

/** A committee's scope: some districts and/or theme groups (empty: the whole county). */
export type ScopeInput = {
  districts: InputMaybe<Array<Scalars['String']['input']>>;
  themeGroups: InputMaybe<Array<Scalars['String']['input']>>;
};

/** What a live update announces. */
export type UpdateKind =
  | 'DECISION_RECORDED'
  | 'PROGRESS_REPORTED'
  | 'RAG_CHANGED'
  | 'STATUS_CHANGED'
  | 'TASKING_ISSUED'
  | 'TASKING_RETASKED';

export type DashboardRollupQueryVariables = Exact<{
  target: Scalars['ID']['input'];
}>;


export type DashboardRollupQuery = { __typename?: 'Query', deliveryRollup: { __typename?: 'TargetRollup', targetId: string, targetValue: string, tasked: string | null, actual: string | null, unit: string, shares: Array<{ __typename?: 'ShareRollup', taskingId: string, district: string, share: string, actual: string, status: string, projects: Array<{ __typename?: 'ProjectContribution', title: string, rag: string | null, contribution: string }> }> } | null };

export type DashboardTaskingsQueryVariables = Exact<{
  first: InputMaybe<Scalars['Int']['input']>;
  after: InputMaybe<Scalars['String']['input']>;
}>;


export type DashboardTaskingsQuery = { __typename?: 'Query', taskingsConnection: { __typename?: 'TaskingConnection', totalCount: number, edges: Array<{ __typename?: 'TaskingEdge', cursor: string, node: { __typename?: 'Tasking', id: string, district: string, share: string, unit: string, status: string, leadPartner: string } }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null } } };

export type TaskingsInForceQueryVariables = Exact<{
  target: Scalars['ID']['input'];
  on: Scalars['Date']['input'];
}>;


export type TaskingsInForceQuery = { __typename?: 'Query', taskings: Array<{ __typename?: 'Tasking', id: string, taskingId: string, district: string, share: string, status: string }> };

export type DashboardUpdatesSubscriptionVariables = Exact<{
  kinds: InputMaybe<Array<UpdateKind> | UpdateKind>;
}>;


export type DashboardUpdatesSubscription = { __typename?: 'Subscription', updates: { __typename?: 'Update', cursor: string, kind: UpdateKind, subjectId: string, district: string | null } };
