"""untp"""
