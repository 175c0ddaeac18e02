"""Delivery: programmes, projects, milestones, progress, RAG, interventions and agreed actions."""
