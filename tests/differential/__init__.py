"""Helpers for the tests that hold datatier's client against Prisma Client 7 (tools/prisma-client):
running a batch of calls through Prisma, turning Prisma's JSON into Python values, the blog
dataset and the random query documents of the differential test."""
