# %% [markdown]
# # 02_low_rate_criticality

# %%
print("stub")
