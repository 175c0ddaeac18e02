"""Read side: projections into temporal read models, the GraphQL gateway, scrutiny packs and audit replay."""
