"""Registry (GTO tags), materialising a version's model folder, promotion and deploy targets."""
