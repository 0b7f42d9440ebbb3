"""Warnings before the disaster (监测预警 → 预置): a hazard warning pre-positions stock and teams."""
