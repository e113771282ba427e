# %% [markdown]
# # 01_train_eprop

# %%
print("stub")
