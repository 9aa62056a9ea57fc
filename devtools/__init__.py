"""Development tools: benchmarks, the load test's plan and report, Lighthouse scores, the demo fixture builder.

Installed only where DJANGO_DEVTOOLS (default: DJANGO_DEBUG) is set, so production never loads them.
"""
