"""jsonld"""
