# %% [markdown]
# # 05_sweep_dask

# %%
print("stub")
