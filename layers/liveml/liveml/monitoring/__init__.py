"""Monitoring: drift of live captures against the training data, the retrain policy, reports."""
