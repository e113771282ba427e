# %% [markdown]
# # 03_information_pid

# %%
print("stub")
